"""Placement of a table's rows: geocoding of address-only rows and jurisdiction codes.

* rows without coordinates are geocoded from address + district + township with an
  injected :class:`AddressLocator` (its results are taken as WGS-84); precision "none"
  rejects the row, a district/city/province precision loads it with a warning;
* every placed row gets its province, city and county codes from the reference areas
  (:mod:`geo.jurisdiction`): those of the district the row names, else of the one its
  point lies in; a point outside Beijing, Tianjin and Hebei is rejected, a stated
  district the point is not in is a warning (the stated one keeps the row), an empty
  one is filled in;
* when no datum was stated, :func:`geo.coords.guess_datum` is run against the rows'
  stated districts and a file-level warning is added if another datum fits decisively
  (nothing is converted on a guess).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo import coords
from geo.entities import get_entity
from geo.etl.geometry import POINT_GEOMETRY_TYPE
from geo.etl.issues import IssueCollector
from geo.jurisdiction import (
    JurisdictionIndex,
    assign_jurisdiction,
    claimed_polygons,
    district_mismatch,
    stated_districts,
)

#: Progress callback: (step, done, total); steps are "validate" and "geocode" here.
Progress = Callable[[str, int, int], None]

#: ``geocode_precision`` of rows whose coordinates came with the file.
PRECISION_FROM_FILE = "coordinates"
#: Geocoder precisions loaded with a warning: the point stands for a whole area.
COARSE_PRECISIONS = ("district", "city", "province")
_PRECISION_ZH = {"district": "区县", "city": "城市", "province": "省级"}
#: Distinct addresses sent to the locator per call (progress is reported between calls).
GEOCODE_CHUNK = 5000


class AddressLocation(Protocol):
    """What the loader needs from one located address (WGS-84 degrees; read-only is enough)."""

    @property
    def lon(self) -> float | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def precision(self) -> str: ...
    @property
    def confidence(self) -> float: ...


class AddressLocator(Protocol):
    """Anything with ``geocode_many(addresses) -> locations`` (one per address, in order),
    such as :class:`geo.geocoder.Geocoder`."""

    def geocode_many(self, addresses: Sequence[str]) -> Sequence[AddressLocation]: ...


# ---------------------------------------------------------------------------- geocoding


def _address_queries(cells: pd.DataFrame, rows: NDArray[np.int64]) -> list[str | None]:
    """Address text for geocoding: the address, prefixed by district and township when it
    does not already name them; None when the row has none of the three."""
    n = len(cells)
    empty = np.full(n, None, dtype=object)
    address = cells["address"].to_numpy(dtype=object) if "address" in cells else empty
    district = cells["district"].to_numpy(dtype=object) if "district" in cells else empty
    township = cells["township"].to_numpy(dtype=object) if "township" in cells else empty
    out: list[str | None] = []
    for i in rows:
        a, d, t = address[i], district[i], township[i]
        parts = [p for p in (d, t) if p and (a is None or p not in a)]
        if a:
            parts.append(a)
        out.append("".join(parts) if parts else None)
    return out


def _locate_all(
    geocoder: AddressLocator,
    queries: Sequence[str],
    progress: Progress | None,
) -> list[AddressLocation]:
    """Results for distinct ``queries`` in order, in chunks of :data:`GEOCODE_CHUNK`."""
    results: list[AddressLocation] = []
    for start in range(0, len(queries), GEOCODE_CHUNK):
        chunk = list(queries[start : start + GEOCODE_CHUNK])
        found = list(geocoder.geocode_many(chunk))
        if len(found) != len(chunk):
            raise ValueError(f"geocoder returned {len(found)} results for {len(chunk)} addresses")
        results.extend(found)
        if progress:
            progress("geocode", min(start + GEOCODE_CHUNK, len(queries)), len(queries))
    return results


def locate_by_address(
    cells: pd.DataFrame,
    need: NDArray[np.int64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    precision: NDArray[np.object_],
    geocoder: AddressLocator | None,
    issues: IssueCollector,
    progress: Progress | None,
) -> int:
    """Locate rows ``need`` (positions without coordinates) by their address text, filling
    ``lon``/``lat`` (WGS-84 degrees) and ``precision`` in place; returns how many were placed.

    A row with no address text, or any row when ``geocoder`` is None, is rejected; so is
    one located with precision "none"; a coarse precision is a warning."""
    queries = _address_queries(cells, need)
    no_text = np.array([q is None for q in queries], dtype=bool)
    issues.add(need[no_text], None, None, "no coordinates and no address to locate",
               "缺少坐标，也没有可用于定位的地址")
    need = need[~no_text]
    texts = [q for q in queries if q is not None]
    if need.size == 0:
        return 0
    if geocoder is None:
        issues.add(need, "address", texts, "no coordinates, and no geocoder was given to locate the address",
                   "缺少坐标，且未提供地址解析（地理编码）")
        return 0
    distinct = list(dict.fromkeys(texts))
    results = dict(zip(distinct, _locate_all(geocoder, distinct, progress), strict=True))
    placed = 0
    failed: list[int] = []
    failed_text: list[str] = []
    for pos, text in zip(need.tolist(), texts, strict=True):
        result = results[text]
        x, y = result.lon, result.lat
        if result.precision == "none" or x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            failed.append(pos)
            failed_text.append(text)
            continue
        lon[pos], lat[pos] = float(x), float(y)
        precision[pos] = result.precision
        placed += 1
    issues.add(failed, "address", failed_text,
               "the address could not be located (geocoder precision none)", "地址无法定位（地理编码失败）")
    text_at = dict(zip(need.tolist(), texts, strict=True))
    for level in COARSE_PRECISIONS:
        coarse = [p for p in need.tolist() if precision[p] == level]
        issues.add(coarse, "address", [text_at[p] for p in coarse],
                   f"the address was located only to the {level} (geocode precision {level}); the point is approximate",
                   f"地址仅定位到{_PRECISION_ZH[level]}级别，坐标为近似位置", severity="warning")
    return placed


# ------------------------------------------------------------------------- jurisdiction


def check_datum_guess(
    index: JurisdictionIndex,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    usable: NDArray[np.bool_],
    districts: NDArray[np.object_],
    issues: IssueCollector,
) -> coords.DatumGuess | None:
    """Run :func:`geo.coords.guess_datum` on rows with a stated district; warn if decisive and not WGS-84.

    ``lon``/``lat`` are already taken as WGS-84; candidates are read back from them,
    which for the WGS-84 default is the file's own values.
    """
    positions = np.flatnonzero(usable)
    if positions.size == 0:
        return None
    rows, polys = claimed_polygons(index, districts[positions])
    if rows.size < 10:
        return None
    sel = positions[rows]
    guess = coords.guess_datum(lon[sel], lat[sel], polys)
    if guess.decisive and guess.best != "wgs84":
        shares = ", ".join(f"{k} {v:.1%}" for k, v in guess.shares.items())
        issues.note(
            f"no datum was stated and WGS-84 was assumed, but {guess.best} fits the stated districts better "
            f"({shares}); reload with --datum {guess.best} if the file is in {guess.best}",
            f"未声明坐标系，按WGS84导入，但{guess.best}与填报的所属区更吻合；"
            f"如确为{guess.best}请用--datum {guess.best}重新导入",
            column="datum",
        )
    return guess


def entity_columns(kind: str) -> tuple[str, ...]:
    """The entity's own column names (without ``key`` and the common columns)."""
    return tuple(c.name for c in get_entity(kind).columns)


def assign_codes(
    kind: str,
    index: JurisdictionIndex,
    geoms: NDArray[np.object_],
    values: dict[str, NDArray[np.object_]],
    issues: IssueCollector,
) -> dict[str, NDArray[np.object_]]:
    """Jurisdiction codes; rejects rows outside every area; flags stated-district mismatches.

    The codes are those of the district the row names (its ``district`` attribute, when it
    names one county-level district the reference knows), else of the district its point
    lies in: a region scope (:mod:`geo.scope`) follows the bureau's own assignment.
    """
    present = ~shapely.is_missing(geoms) & ~issues.rejected
    idx = np.flatnonzero(present)
    placement = assign_jurisdiction(index, geoms[idx])
    n = len(geoms)
    codes = {name: np.full(n, None, dtype=object) for name in ("province_code", "city_code", "county_code")}
    codes["province_code"][idx] = placement.province_code
    codes["city_code"][idx] = placement.city_code
    codes["county_code"][idx] = placement.county_code
    outside = idx[~placement.inside]
    if get_entity(kind).geometry_type == POINT_GEOMETRY_TYPE:
        issues.add(outside, "geometry", [f"{g.x:.6f}, {g.y:.6f}" for g in geoms[outside]],
                   "outside Beijing, Tianjin and Hebei (reference boundaries)", "坐标不在京津冀行政区域内")
    if "district" in entity_columns(kind):
        district = values.setdefault("district", np.full(n, None, dtype=object))
        stated = district[idx]
        mismatch, unknown = district_mismatch(index, stated, placement)
        pos = idx[mismatch]
        where = placement.district_name[mismatch]
        issues.add(pos, "district", [f"{s} (point in {w})" for s, w in zip(stated[mismatch], where, strict=True)],
                   "the point is not in the district the row names", "坐标所在区与填报的所属区不一致",
                   severity="warning")
        issues.add(idx[unknown], "district", stated[unknown], "unknown district name", "无法识别的区县名称",
                   severity="warning")
        # the bureau's own district decides the row's jurisdiction (and so its region scope)
        claimed = stated_districts(index, stated)
        own, at = idx[claimed >= 0], claimed[claimed >= 0]
        codes["county_code"][own] = index.district_codes[at]
        codes["city_code"][own] = index.district_city[at]
        codes["province_code"][own] = index.district_province[at]
        # fill an empty district with the one the point lies in
        fill = idx[pd.isna(stated) & pd.notna(placement.district_name)]
        district[fill] = placement.district_name[pd.isna(stated) & pd.notna(placement.district_name)]
    return codes
