"""The stores' ``where`` with ``any_of`` (an OR of filters, the form a region scope mixing
levels takes) and ``search(where=)``: every read on PostGIS and the GeoPackage gives the
rows a plain filter of the frame gives, and the two stores agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
from shapely.geometry import Point, box

from geo.entities import make_key
from geo.scope import ANY_OF
from geo.stores.frames import filter_frame
from geo.stores.protocol import ClusterSpec, LoadBatch, Store

CODES = [("110000", "110100", "110105"), ("110000", "110100", "110108"), ("130000", "131000", "131082"),
         (None, None, None)]
LEVELS = ("red", "orange", "yellow", "blue")
#: 朝阳区 or anything in 廊坊市, red or blue: the rows of a mixed district + city scope.
WHERE = {"level": ["red", "blue"], ANY_OF: [{"county_code": ["110105"]}, {"city_code": "131000"}]}
CLUSTER = ClusterSpec(cell=512, column="level", values=LEVELS)


def _batch(kind: str, name: str = "any_of.csv") -> LoadBatch:
    return LoadBatch(kind=kind, file_name=name, sha256="6" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def sources(n: int = 160, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    credit = [f"C{i:04d}" for i in range(n)]
    return gpd.GeoDataFrame({
        "key": [make_key((c, "R")) for c in credit], "credit_code": credit, "source_code": "R",
        "name": [f"储罐{i}" for i in range(n)], "level": [LEVELS[i % 4] for i in range(n)],
        "province_code": [CODES[(i // 4) % 4][0] for i in range(n)],
        "city_code": [CODES[(i // 4) % 4][1] for i in range(n)],
        "county_code": [CODES[(i // 4) % 4][2] for i in range(n)],
    }, geometry=gpd.points_from_xy(116.30 + rng.random(n) * 0.3, 39.80 + rng.random(n) * 0.2), crs="EPSG:4326")


def expected_keys(where: dict | None = None) -> list[str]:
    frame = sources()
    return sorted(frame.loc[filter_frame(frame, where or WHERE), "key"])


@pytest.fixture
def both(make_store: Callable[[str], Store]) -> tuple[Store, Store]:
    stores = []
    for kind in ("postgis", "geopackage"):
        s = make_store(kind)
        s.upsert("risk_sources", sources(), batch=_batch("risk_sources"))
        s.upsert("areas", gpd.GeoDataFrame({"key": ["W", "E"], "area_code": ["W", "E"], "name": ["西", "东"],
                                            "area_type": "district"},
                                           geometry=[box(116.30, 39.80, 116.45, 40.0), box(116.45, 39.80, 116.6, 40.0)],
                                           crs="EPSG:4326"), batch=_batch("areas"))
        stores.append(s)
    return stores[0], stores[1]


def test_reads_and_counts_match_the_filter(both: tuple[Store, Store]) -> None:
    want = expected_keys()
    assert 0 < len(want) < len(sources()) / 2
    for s in both:
        assert s.read("risk_sources", where=WHERE)["key"].tolist() == want
        assert s.read_points("risk_sources", where=WHERE, columns=("level",))["key"].tolist() == want
        assert s.count("risk_sources", where=WHERE) == len(want)
        assert s.read("risk_sources", where=WHERE, limit=3, offset=2)["key"].tolist() == want[2:5]
        # rows without codes match no alternative; no alternative at all matches no row
        assert not s.read("risk_sources", where={ANY_OF: [{"county_code": ["110105"]}]})["county_code"].isna().any()
        assert s.count("risk_sources", where={ANY_OF: []}) == 0
        # the same column inside and outside any_of: both hold
        assert s.count("risk_sources", where={"county_code": "110108", ANY_OF: [{"county_code": ["110105"]}]}) == 0


def test_metric_queries_agree(both: tuple[Store, Store]) -> None:
    want = set(expected_keys())
    near = [s.nearest("risk_sources", 116.45, 39.9, k=7, where=WHERE) for s in both]
    assert near[0]["key"].tolist() == near[1]["key"].tolist() and set(near[0]["key"]) <= want
    np.testing.assert_allclose(near[0]["distance_m"], near[1]["distance_m"], atol=0.01)
    within = [s.within_distance("risk_sources", Point(116.45, 39.9), 8000, where=WHERE) for s in both]
    assert within[0]["key"].tolist() == within[1]["key"].tolist() and set(within[0]["key"]) <= want
    scope = {ANY_OF: WHERE[ANY_OF]}
    groups = [s.nearest_per_group("risk_sources", 116.45, 39.9, k=2, column="level", values=["red", "orange"],
                                  fields=("key",), where=scope) for s in both]
    for level in ("red", "orange"):
        assert [r["key"] for r in groups[0][level]] == [r["key"] for r in groups[1][level]]
        assert len(groups[0][level]) == 2 and {r["key"] for r in groups[0][level]} <= set(expected_keys(scope))
    counts = [s.count_per_polygon("risk_sources", "areas", group_column="level", where=WHERE) for s in both]
    assert counts[0].equals(counts[1]) and int(counts[0]["count"].sum()) == len(want)


def test_search_takes_a_filter(both: tuple[Store, Store]) -> None:
    want = expected_keys()
    for s in both:
        hits = s.search("risk_sources", "储罐", columns=("name",), limit=500, where=WHERE)
        assert sorted(hits["key"]) == want
        assert len(s.search("risk_sources", "储罐", columns=("name",), limit=500)) == len(sources())
        assert s.search("risk_sources", "储罐1", columns=("name",), where={"county_code": "none"}).empty
    a, b = (s.search("risk_sources", "储罐1", columns=("name",), limit=50, where=WHERE)["key"].tolist() for s in both)
    assert a == b


def _tiles(z: int) -> list[mercantile.Tile]:
    return list(mercantile.tiles(116.29, 39.79, 116.61, 40.01, zooms=z))


def test_tiles_draw_and_count_only_the_filtered_rows(both: tuple[Store, Store]) -> None:
    want = expected_keys()
    for s in both:
        drawn: set[str] = set()
        for t in _tiles(12):
            layer = mapbox_vector_tile.decode(s.tile("risk_sources", t.z, t.x, t.y, columns=("key",), where=WHERE))
            drawn |= {f["properties"]["key"] for f in layer.get("risk_sources", {"features": []})["features"]}
        assert sorted(drawn) == want
        clusters: dict[str, int] = {}
        for t in _tiles(9):
            layer = mapbox_vector_tile.decode(s.tile("risk_sources", t.z, t.x, t.y, where=WHERE, cluster=CLUSTER))
            for f in layer.get("risk_sources", {"features": []})["features"]:
                clusters[f["properties"]["key"]] = f["properties"]["count"]
        assert sum(clusters.values()) == len(want)
    z, x, y = 11, 1686, 775
    a, b = (mapbox_vector_tile.decode(s.tile("risk_sources", z, x, y, where=WHERE, cluster=CLUSTER)) for s in both)
    assert a == b


def test_kept_counts_of_a_filter_follow_a_load(both: tuple[Store, Store]) -> None:
    for s in both:
        s.keep_clusters("risk_sources", CLUSTER, where=WHERE)
    extra = sources(2).assign(key=["x1", "x2"], credit_code=["X1", "X2"], level="red", county_code="110105")
    extra = extra.set_geometry([Point(116.4, 39.9), Point(116.41, 39.91)], crs="EPSG:4326")
    for s in both:
        s.upsert("risk_sources", extra, batch=_batch("risk_sources", "extra.csv"))
        total = 0
        seen: set[str] = set()
        for t in _tiles(8):
            layer = mapbox_vector_tile.decode(s.tile("risk_sources", t.z, t.x, t.y, where=WHERE, cluster=CLUSTER))
            for f in layer.get("risk_sources", {"features": []})["features"]:
                if f["properties"]["key"] not in seen:
                    seen.add(f["properties"]["key"])
                    total += f["properties"]["count"]
        assert total == len(expected_keys()) + 2
