"""Synthetic pipelines and hazardous-goods routes (``lines.geojson``).

All fictional: about 60 % run from a Tianjin or Hebei place across the Beijing border
to a Beijing place, the rest stay inside Beijing; each leg wiggles up to ~1 km
sideways.  Operators are fictional companies.  WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.capabilities.demo.cells import SYNTHETIC_COLUMN, trade_names
from geo.capabilities.demo.sampling import choice
from geo.capabilities.demo.world import DemoWorld
from geo.coords import STORAGE_CRS

LINE_KINDS: dict[str, float] = {"输油管道": 8, "输气管道": 10, "输水管道": 6, "危化品运输路线": 12}


def draw_lines(world: DemoWorld) -> gpd.GeoDataFrame:
    """Pipelines and hazmat routes; about 60 % cross the Beijing–Hebei/Tianjin borders."""
    rng, n = world.rng, world.counts["lines"]
    border_union = world.ref.borders.geometry.union_all()
    bj = world.anchors_of_types(["industrial_landuse", "residential"])
    kinds = choice(rng, list(LINE_KINDS), list(LINE_KINDS.values()), n)
    crossing = np.zeros(n, dtype=bool)
    crossing[rng.permutation(n)[: max(2, round(0.6 * n))]] = True
    geoms: list[LineString] = []
    names: list[str] = []
    for i in range(n):
        if crossing[i]:
            # alternate the two borders so both carry lines; Hebei's is 15× longer
            code = "border:110000-130000" if i % 3 else "border:110000-120000"
            geom, name = _crossing_line(world, code, border_union, bj)
        else:
            geom, name = _beijing_line(world, bj)
        geoms.append(geom)
        names.append(name + kinds[i])
    op_word = np.where(np.isin(kinds, ["危化品运输路线"]), "危险货物运输有限公司", "管道运营有限公司")
    operator = "华北" + trade_names(rng, n) + op_word
    prefix = np.where(kinds == "危化品运输路线", "WY", "GD")
    return gpd.GeoDataFrame(
        {
            "编码": [f"{p}-{i + 1:03d}" for i, p in enumerate(prefix)],
            "名称": names,
            "类型": kinds,
            "运营单位": operator,
            SYNTHETIC_COLUMN: "是",
        },
        geometry=geoms,
        crs=STORAGE_CRS,
    )


def _crossing_line(
    world: DemoWorld, border_code: str, border_union: BaseGeometry, bj: gpd.GeoDataFrame
) -> tuple[LineString, str]:
    """A line from a place near ``border_code`` on the far side, through a border point, to
    a Beijing place near it (up to 50 tries for one that crosses and ends in Beijing)."""
    rng = world.rng
    border = world.ref.borders.set_index("line_code").geometry[border_code]
    province = border_code.split("-")[1]
    outside = world.jjj_anchors[world.jjj_anchors["province_code"] == province]
    ox, oy = outside.geometry.x.to_numpy(), outside.geometry.y.to_numpy()
    ix, iy = bj.geometry.x.to_numpy(), bj.geometry.y.to_numpy()
    for _ in range(50):
        p = border.interpolate(float(rng.uniform(0, 1)), normalized=True)
        near_out = np.argsort((ox - p.x) ** 2 + (oy - p.y) ** 2)[:15]
        near_in = np.argsort((ix - p.x) ** 2 + (iy - p.y) ** 2)[:15]
        a = int(near_out[rng.integers(0, near_out.size)])
        b = int(near_in[rng.integers(0, near_in.size)])
        start, end = (ox[a], oy[a]), (ix[b], iy[b])
        line = _wiggle(rng, [start, (p.x, p.y), end])
        if line.crosses(border_union) and shapely.contains_xy(world.ref.beijing, *end):
            out_code = outside["county_code"].to_numpy()[a]
            in_code = bj["county_code"].to_numpy()[b]
            name = f"{_short(world.counties.loc[out_code, 'name'])}—{_short(world.district_names[in_code])}"
            return line, name
    raise ValueError(f"could not draw a line across {border_code}")  # pragma: no cover


def _beijing_line(world: DemoWorld, bj: gpd.GeoDataFrame) -> tuple[LineString, str]:
    """A line between two Beijing places about 10–40 km apart."""
    rng = world.rng
    x, y = bj.geometry.x.to_numpy(), bj.geometry.y.to_numpy()
    a = int(rng.integers(0, len(bj)))
    d2 = (x - x[a]) ** 2 + (y - y[a]) ** 2
    far = np.flatnonzero((d2 > 0.1**2) & (d2 < 0.4**2))  # ≈ 10–40 km away
    b = int(far[rng.integers(0, far.size)]) if far.size else int(np.argmax(d2))
    line = _wiggle(rng, [(x[a], y[a]), (x[b], y[b])])
    codes = bj["county_code"].to_numpy()
    names = [_short(world.district_names[codes[k]]) for k in (a, b)]
    name = f"{names[0]}—{names[1]}" if names[0] != names[1] else f"{names[0]}区内"
    return line, name


def _short(name: str) -> str:
    """A place name without its 区/县/市 suffix (as line names write it)."""
    for suffix in ("回族自治县", "满族自治县", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name.removesuffix(suffix)
    return name


def _wiggle(rng: np.random.Generator, points: Sequence[tuple[float, float]]) -> LineString:
    """A line through ``points`` with 3 intermediate vertices per leg, moved ≤ ~1 km sideways."""
    coords: list[tuple[float, float]] = [(float(points[0][0]), float(points[0][1]))]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0) or 1e-9
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        for t in (0.25, 0.5, 0.75):
            off = float(rng.uniform(-0.01, 0.01)) * min(1.0, length / 0.05)
            coords.append((x0 + t * (x1 - x0) + off * nx, y0 + t * (y1 - y0) + off * ny))
        coords.append((float(x1), float(y1)))
    return LineString(np.round(np.asarray(coords), 6))
