"""Cluster cells: hand-computed indices, nesting across zooms, the tile's ring of cells."""

from __future__ import annotations

import numpy as np

from geo import tiles


def test_base_cell_of_a_point_is_its_rounded_tile_unit_floor_divided_by_the_cell() -> None:
    # lon 0, lat 0 is the centre of the world: tile units 2**12 * 4096 / 2 = 8,388,608 at z12.
    cells = tiles.cluster_base_cells(np.array([0.0]), np.array([0.0]), ["red"], base_zoom=12, extent=4096,
                                     cell=256, value_set=("red", "blue"))
    assert (cells.i.tolist(), cells.j.tolist()) == ([8_388_608 // 256], [8_388_608 // 256])
    assert cells.n.tolist() == [1] and cells.counts.tolist() == [[1, 0]]


def test_cells_nest_so_every_zoom_counts_every_point_once() -> None:
    rng = np.random.default_rng(1)
    lon, lat = 116 + rng.random(500), 39.5 + rng.random(500)
    values = rng.choice(["red", "blue", "other"], 500)
    base = tiles.cluster_base_cells(lon, lat, values, base_zoom=12, extent=4096, cell=256,
                                    value_set=("red", "blue"))
    for z in range(13):
        cells = tiles.coarser_cells(base, z)
        assert cells.n.sum() == 500
        assert cells.counts.sum(axis=0).tolist() == [int((values == "red").sum()), int((values == "blue").sum())]
        direct = tiles.cluster_base_cells(lon, lat, values, base_zoom=z, extent=4096, cell=256,
                                          value_set=("red", "blue"))
        # counting at z directly differs only for points within half a tile unit of a cell edge
        assert abs(len(direct.n) - len(cells.n)) <= 2


def test_a_tile_draws_its_cells_and_the_ring_around_it_with_global_keys() -> None:
    z, x, y, per_tile = 3, 5, 2, 16
    i = np.array([x * per_tile - 2, x * per_tile - 1, x * per_tile, x * per_tile + per_tile,
                  x * per_tile + per_tile + 1])
    j = np.full(5, y * per_tile + 3)
    cells = tiles.ClusterCells(z, i, j, np.ones(5, dtype=np.int64), np.zeros((5, 0), dtype=np.int64))
    geoms, props = tiles.cluster_tile_features(cells, x, y, extent=4096, cell=256, value_set=())
    assert [p["key"] for p in props] == [f"cluster:3/{k}/{y * per_tile + 3}" for k in i[1:4]]
    assert [(g.x, g.y) for g in geoms] == [(-128, 3 * 256 + 128), (128, 3 * 256 + 128),
                                           (16 * 256 + 128, 3 * 256 + 128)]
