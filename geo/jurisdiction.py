"""Which province, city and county (district) a feature lies in, from reference areas.

Pure: built from an ``areas`` frame (``area_code``, ``name``, ``area_type``,
``parent_code`` and optionally ``province_code``/``city_code``, WGS-84 polygons) as
:func:`geo.files.reference.read_reference` or a store's ``areas`` layer returns it.

* Codes come from the district polygon (``area_type == "district"``) a point lies in:
  ``county_code`` is its 6-digit GB/T 2260 code (for Beijing's districts the adcode,
  e.g. 110105 朝阳区), ``city_code`` and ``province_code`` its parents (from the row,
  or from the code itself: 130102 → 130100, 130000).  Districts whose code is not six
  digits (the hand-digitised 北京经济技术开发区 "110100-ETDA", which overlaps 大兴区 and
  通州区) never give a county code, but do count when checking a stated district.
* A point on the border of two districts takes the lower code (deterministic).
* A row's own district attribute, when it names one county-level district
  (:func:`stated_districts`), is that row's jurisdiction even where its point lies in
  another district: the loader (:func:`geo.etl.placement.assign_codes`) gives it that
  district's codes, so a region scope (:mod:`geo.scope`) follows the bureau's own
  assignment; the mismatch is still reported as a warning.
* A point in no district is tried against the province polygons; one in neither gets
  no codes (the loader rejects it as outside Jing-Jin-Ji).
* Lines and polygons are placed by a representative point on them
  (``shapely.point_on_surface``), so a pipeline crossing a border gets the codes of
  one side only.

Point-in-polygon is vectorised with a Shapely STRtree (``query(predicate="intersects")``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

#: Extra names a row may give for a district-level area, by area code.
DISTRICT_NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "110100-ETDA": ("经开区", "开发区", "经济技术开发区", "北京经济技术开发区", "北京经开区", "亦庄", "亦庄开发区"),
}
_DISTRICT_SUFFIX = re.compile(r"(自治县|区|县|市)$")
_SIX_DIGITS = re.compile(r"\d{6}")


def fold_place_name(name: str) -> str:
    """A place name folded for comparison: NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


def district_name_keys(name: str) -> tuple[str, ...]:
    """The folded forms a district name is looked up by: as given, and without 区/县/市
    (when something is left: "朝阳区" → "朝阳区", "朝阳"; "赵县" → "赵县", "赵")."""
    folded = fold_place_name(name)
    short = _DISTRICT_SUFFIX.sub("", folded)
    return (folded, short) if short and short != folded and len(short) >= 2 else (folded,)


@dataclass(frozen=True)
class JurisdictionIndex:
    """District and province polygons with their codes, and a district name lookup.

    Build with :func:`build_jurisdiction_index`.  ``district_codes`` etc. are aligned
    with ``district_tree``'s geometries.
    """

    district_codes: NDArray[np.object_]
    district_names: NDArray[np.object_]
    district_city: NDArray[np.object_]
    district_province: NDArray[np.object_]
    district_geoms: NDArray[np.object_]
    district_tree: shapely.STRtree
    province_codes: NDArray[np.object_]
    province_tree: shapely.STRtree
    #: folded name → indices of the districts it may name (several for 桥西区).
    names: dict[str, tuple[int, ...]]

    @property
    def empty(self) -> bool:
        return len(self.district_codes) == 0 and len(self.province_codes) == 0


def _code_or_none(value: object) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _parent(code: str, level: str) -> str | None:
    if not _SIX_DIGITS.fullmatch(code):
        return None
    return code[:2] + "0000" if level == "province" else code[:4] + "00"


def build_jurisdiction_index(areas: pd.DataFrame) -> JurisdictionIndex:
    """The index for ``areas`` (a GeoDataFrame or a frame with a ``geometry`` column).

    Only rows with ``area_type`` "district" and "province" are used.  Raises
    ``ValueError`` when a needed column is missing.
    """
    for column in ("area_code", "name", "area_type", "geometry"):
        if column not in areas:
            raise ValueError(f"areas frame has no {column!r} column")
    kinds = areas["area_type"].astype(object).to_numpy()
    districts = areas[kinds == "district"]
    provinces = areas[kinds == "province"]
    codes = [str(c) for c in districts["area_code"].tolist()]
    city = []
    province = []
    for i, code in enumerate(codes):
        row_city = _code_or_none(districts["city_code"].iloc[i]) if "city_code" in districts else None
        row_prov = _code_or_none(districts["province_code"].iloc[i]) if "province_code" in districts else None
        city.append(row_city or _parent(code, "city"))
        province.append(row_prov or _parent(code, "province"))
    names: dict[str, list[int]] = {}
    for i, (code, name) in enumerate(zip(codes, districts["name"].tolist(), strict=True)):
        keys = {*district_name_keys(str(name)), *(fold_place_name(a) for a in DISTRICT_NAME_ALIASES.get(code, ()))}
        if _SIX_DIGITS.fullmatch(code):
            keys.add(code)
        for key in keys:
            names.setdefault(key, []).append(i)
    geoms = np.asarray(districts["geometry"].to_numpy(), dtype=object)
    pgeoms = np.asarray(provinces["geometry"].to_numpy(), dtype=object)
    shapely.prepare(geoms)
    shapely.prepare(pgeoms)
    return JurisdictionIndex(
        district_codes=np.asarray(codes, dtype=object),
        district_names=np.asarray([str(n) for n in districts["name"].tolist()], dtype=object),
        district_city=np.asarray(city, dtype=object),
        district_province=np.asarray(province, dtype=object),
        district_geoms=geoms,
        district_tree=shapely.STRtree(geoms),
        province_codes=np.asarray([str(c) for c in provinces["area_code"].tolist()], dtype=object),
        province_tree=shapely.STRtree(pgeoms),
        names={k: tuple(v) for k, v in names.items()},
    )


def representative_points(geometries: NDArray[np.object_]) -> NDArray[np.object_]:
    """Points stay; lines and polygons are represented by a point on them; None stays None."""
    geoms = np.asarray(geometries, dtype=object)
    out = geoms.copy()
    missing = shapely.is_missing(geoms)
    is_point = np.zeros(len(geoms), dtype=bool)
    is_point[~missing] = shapely.get_type_id(geoms[~missing]) == 0
    other = ~missing & ~is_point
    if other.any():
        out[other] = shapely.point_on_surface(geoms[other])
    return out


@dataclass(frozen=True)
class Placement:
    """Result of :func:`assign_jurisdiction`, one entry per input geometry.

    ``province_code``/``city_code``/``county_code`` (None where unknown),
    ``district_name`` the county-level area's name, ``inside`` True where the point
    lies in some district or province of the index, and ``pairs`` every
    (input index, district index) intersection, used for the stated-district check.
    """

    province_code: NDArray[np.object_]
    city_code: NDArray[np.object_]
    county_code: NDArray[np.object_]
    district_name: NDArray[np.object_]
    inside: NDArray[np.bool_]
    pairs: NDArray[np.int64]


def assign_jurisdiction(index: JurisdictionIndex, geometries: NDArray[np.object_]) -> Placement:
    """Province / city / county codes for WGS-84 ``geometries`` (see the module docstring)."""
    points = representative_points(geometries)
    n = len(points)
    province = np.full(n, None, dtype=object)
    city = np.full(n, None, dtype=object)
    county = np.full(n, None, dtype=object)
    dname = np.full(n, None, dtype=object)
    inside = np.zeros(n, dtype=bool)
    valid = ~shapely.is_missing(points)
    valid_idx = np.flatnonzero(valid)
    pairs = np.empty((2, 0), dtype=np.int64)
    if len(index.district_codes) and valid_idx.size:
        found = index.district_tree.query(points[valid_idx], predicate="intersects")
        pairs = np.vstack([valid_idx[found[0]], found[1]]).astype(np.int64)
        if pairs.shape[1]:
            numeric = np.array([bool(_SIX_DIGITS.fullmatch(c)) for c in index.district_codes])
            inside[pairs[0]] = True
            county_pairs = pairs[:, numeric[pairs[1]]]
            # lowest code wins on shared borders: sort by (point, code) and take the first per point
            codes = index.district_codes[county_pairs[1]].astype(str)
            order = np.lexsort((codes, county_pairs[0]))
            county_pairs = county_pairs[:, order]
            first = np.unique(county_pairs[0], return_index=True)[1]
            rows, dist = county_pairs[0][first], county_pairs[1][first]
            county[rows] = index.district_codes[dist]
            city[rows] = index.district_city[dist]
            province[rows] = index.district_province[dist]
            dname[rows] = index.district_names[dist]
    rest = valid_idx[~inside[valid_idx]]
    if len(index.province_codes) and rest.size:
        found = index.province_tree.query(points[rest], predicate="intersects")
        if found.shape[1]:
            codes = index.province_codes[found[1]].astype(str)
            order = np.lexsort((codes, found[0]))
            found = found[:, order]
            first = np.unique(found[0], return_index=True)[1]
            rows = rest[found[0][first]]
            province[rows] = index.province_codes[found[1][first]]
            inside[rows] = True
    return Placement(province, city, county, dname, inside, pairs)


def resolve_district_names(index: JurisdictionIndex, stated: NDArray[np.object_]) -> list[tuple[int, ...] | None]:
    """For each stated district name (None for empty): the indices of the districts it may
    name, ``()`` for a name the index does not know, or None for an empty cell."""
    cache: dict[str, tuple[int, ...]] = {}
    out: list[tuple[int, ...] | None] = []
    for value in stated:
        if value is None:
            out.append(None)
            continue
        text = str(value)
        if text not in cache:
            hits: set[int] = set()
            for key in district_name_keys(text):
                hits.update(index.names.get(key, ()))
            cache[text] = tuple(sorted(hits))
        out.append(cache[text])
    return out


def stated_districts(index: JurisdictionIndex, stated: NDArray[np.object_]) -> NDArray[np.int64]:
    """For each stated district name (None for empty): the index of the one county-level
    district it names, or -1 when it names none the index knows, several, or only one
    without a six-digit code (the 开发区, which overlaps 大兴 and 通州)."""
    numeric = np.array([bool(_SIX_DIGITS.fullmatch(str(c))) for c in index.district_codes], dtype=bool)
    out = np.full(len(stated), -1, dtype=np.int64)
    for i, hits in enumerate(resolve_district_names(index, stated)):
        if hits and len(hits) == 1 and numeric[hits[0]]:
            out[i] = hits[0]
    return out


def district_mismatch(
    index: JurisdictionIndex, stated: NDArray[np.object_], placement: Placement
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(mismatch, unknown) masks for the stated districts of placed geometries.

    ``mismatch`` is True where the row names a known district and the point lies in
    none of the districts that name may mean; ``unknown`` where the row names a
    district the index does not know.  Empty names and unplaced points give False.
    """
    resolved = resolve_district_names(index, stated)
    n = len(stated)
    unknown = np.array([r == () for r in resolved], dtype=bool)
    claimed_rows = [i for i, r in enumerate(resolved) if r]
    mismatch = np.zeros(n, dtype=bool)
    if not claimed_rows:
        return mismatch, unknown
    claims = pd.DataFrame(
        [(i, d) for i in claimed_rows for d in resolved[i] or ()], columns=["row", "district"]
    )
    found = pd.DataFrame({"row": placement.pairs[0], "district": placement.pairs[1]})
    matched = claims.merge(found, on=["row", "district"]).row.unique()
    placed = np.zeros(n, dtype=bool)
    placed[placement.pairs[0]] = True
    mismatch[claimed_rows] = True
    mismatch[matched] = False
    mismatch &= placed
    return mismatch, unknown


def claimed_polygons(index: JurisdictionIndex, stated: NDArray[np.object_]) -> tuple[
    NDArray[np.int64], NDArray[np.object_]
]:
    """(row indices, polygons) for rows whose stated district names exactly one district:
    the input :func:`geo.coords.guess_datum` needs."""
    rows: list[int] = []
    polys: list[object] = []
    for i, r in enumerate(resolve_district_names(index, stated)):
        if r and len(r) == 1:
            rows.append(i)
            polys.append(index.district_geoms[r[0]])
    return np.asarray(rows, dtype=np.int64), np.asarray(polys, dtype=object)
