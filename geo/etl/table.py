"""Turn a raw table of text cells into validated entity rows and a list of problems.

Pure: no files, no store.  :mod:`geo.files.readers` reads a file into text cells with
1-based source row numbers, :func:`geo.etl.headers.match_headers` says which header
is which column, and :func:`validate_table` here returns the rows ready for
``Store.upsert`` (a WGS-84 GeoDataFrame with ``key``) plus every
:class:`geo.etl.issues.Issue`:

* ``reject`` — the row is not loaded (a required field is empty, a value does not
  parse, the credit code's check character is wrong, the point is outside
  Jing-Jin-Ji, the key repeats an earlier row, an address cannot be located …);
* ``warning`` — the row is loaded, but something was fixed or looks wrong
  (lon/lat swapped and swapped back, the stated district is not where the point
  is, the stated risk level differs from L × S, an unknown category kept as given).

The steps, each in its own module: headers checked and cells renamed
(:mod:`~geo.etl.headers`); attribute columns parsed and derived
(:mod:`~geo.etl.attributes`, per distinct value through :mod:`~geo.etl.parsing`);
coordinates, datums and shapes (:mod:`~geo.etl.geometry`); natural keys and duplicates
(here); geocoding of address-only rows and jurisdiction codes (:mod:`~geo.etl.placement`).

Natural keys (``key`` by :func:`geo.entities.make_key` over ``Entity.key_columns``):
a key seen earlier in the same file is rejected ("duplicate key, first at row N"); the
first occurrence that passed the checks made before geocoding and the jurisdiction test
is kept, so the geocoder never sees a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo import coords
from geo.coords import STORAGE_CRS
from geo.entities import Entity, get_entity, make_key
from geo.errors import BadInput
from geo.etl.attributes import (
    ColumnValues,
    attribute_columns,
    check_required,
    derive_columns,
    parse_attributes,
)
from geo.etl.geometry import POINT_GEOMETRY_TYPE, datum_per_row, point_coordinates, shape_geometries
from geo.etl.headers import HeaderMatch, canonical_cells, check_header_match
from geo.etl.issues import Issue, IssueCollector
from geo.etl.placement import (
    PRECISION_FROM_FILE,
    AddressLocator,
    Progress,
    assign_codes,
    check_datum_guess,
    locate_by_address,
)
from geo.etl.values import normalise_datum
from geo.jurisdiction import JurisdictionIndex

#: Entity kinds a bureau file can be loaded into (computed results such as area_results are not).
LOADABLE_KINDS: tuple[str, ...] = (
    "units", "risk_sources", "hazchem_sites", "hidden_hazards", "resources", "protection_targets",
    "lines", "areas", "parcels",
)


@dataclass
class EtlResult:
    """Validated rows and the problems found.

    ``features``: WGS-84 GeoDataFrame with ``key``, the entity's columns and
    ``geometry``, ready for ``Store.upsert``; ``rows``: the source row number of each
    feature; ``issues``: every reject and warning in row order, file-level ones
    (row None) first; ``rejected``/``warned``: distinct rows rejected / loaded with a
    warning; ``geocoded``: rows placed by the geocoder.
    """

    kind: str
    features: gpd.GeoDataFrame
    rows: NDArray[np.int64]
    issues: list[Issue]
    total: int
    rejected: int
    warned: int
    geocoded: int = 0
    datum_used: str = "wgs84"
    datum_guess: coords.DatumGuess | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Table:
    """One table under validation: canonical cells, source row numbers, parsed values, issues."""

    entity: Entity
    cells: pd.DataFrame
    rows: NDArray[np.int64]
    geometry: NDArray[np.object_] | None
    issues: IssueCollector
    values: ColumnValues = field(default_factory=dict)


def validate_table(
    kind: str,
    cells: pd.DataFrame,
    rows: Sequence[int] | NDArray[np.int64],
    match: HeaderMatch,
    *,
    geometry: Sequence[Any] | NDArray[np.object_] | None = None,
    geometry_crs: str | None = None,
    datum: str | None = None,
    jurisdiction: JurisdictionIndex | None = None,
    geocoder: AddressLocator | None = None,
    progress: Progress | None = None,
) -> EtlResult:
    """Validate a raw table of ``kind`` (see the module docstring).

    ``cells``: text cells under the file's headers; ``rows``: source row numbers;
    ``match``: from :func:`geo.etl.headers.match_headers`; ``geometry``/``geometry_crs``:
    the file's geometries and their CRS (spatial formats); ``datum``: the datum of
    coordinates in the file (None: not stated, WGS-84 assumed and checked);
    ``jurisdiction``: reference areas for codes, the Jing-Jin-Ji test and the
    stated-district check (None skips them); ``geocoder``: for rows without
    coordinates (None rejects them).  Raises :class:`geo.etl.headers.HeaderError` when
    the headers cannot feed ``kind`` and ``ValueError`` for an unknown ``datum``.
    """
    table = _open_table(kind, cells, rows, match, geometry)
    default_datum = "wgs84" if datum is None else normalise_datum(datum)
    entity, issues, n = table.entity, table.issues, len(cells)
    columns = attribute_columns(entity, table.cells)
    step = _validate_steps(progress, n, len(columns) + 3)

    table.values = parse_attributes(entity, table.cells, columns, issues, on_column=step)
    derive_columns(kind, table.values, issues, n)
    check_required(entity, table.cells, table.values, issues)
    step(len(columns) + 1)

    # geometry from the file (coordinates, WKT, spatial formats); then keys and duplicates
    # among the rows that passed so far, so the geocoder never sees a duplicate
    keys = _natural_keys(entity, table.values, n)
    datums = datum_per_row(table.cells, n, default_datum, issues)
    geocoded = 0
    guess: coords.DatumGuess | None = None
    if entity.geometry_type == POINT_GEOMETRY_TYPE:
        geoms, geocoded, guess = _place_points(
            table, keys, datums, geometry_crs=geometry_crs, geocoder=geocoder, progress=progress,
            jurisdiction=jurisdiction, datum_stated=datum is not None,
        )
    else:
        geoms = shape_geometries(entity, table.cells, table.geometry, geometry_crs, datums, issues)
        _reject_duplicates(keys, issues, table.rows)
    step(len(columns) + 2)

    codes: dict[str, NDArray[np.object_]] = {}
    if jurisdiction is not None and not jurisdiction.empty:
        codes = assign_codes(kind, jurisdiction, geoms, table.values, issues)
    step(len(columns) + 3)

    keep = ~issues.rejected & ~shapely.is_missing(geoms)
    return EtlResult(
        kind=kind,
        features=_features(entity, table.values, keys, geoms, codes, keep),
        rows=table.rows[keep],
        issues=issues.issues(),
        total=n,
        rejected=int(issues.rejected.sum()),
        warned=int((issues.warned & keep).sum()),
        geocoded=geocoded,
        datum_used=default_datum,
        datum_guess=guess,
        notes=[f"{i.reason} ({i.reason_zh})" for i in issues.file_level],
    )


def _open_table(
    kind: str,
    cells: pd.DataFrame,
    rows: Sequence[int] | NDArray[np.int64],
    match: HeaderMatch,
    geometry: Sequence[Any] | NDArray[np.object_] | None,
) -> _Table:
    """The table with canonical cells and the file-level notes; raises ``ValueError`` for a
    kind not loaded from files or a row count that does not match, :class:`~geo.etl.headers.HeaderError`
    (:func:`geo.etl.headers.check_header_match`) for headers that cannot feed ``kind``."""
    entity = get_entity(kind)
    if kind not in LOADABLE_KINDS:
        raise BadInput(f"{kind} is not loaded from files; loadable kinds: {', '.join(LOADABLE_KINDS)}")
    rows_arr = np.asarray(rows, dtype=np.int64)
    if len(rows_arr) != len(cells):
        raise ValueError(f"{len(rows_arr)} row numbers for {len(cells)} rows")
    geom_arr = None if geometry is None else np.asarray(geometry, dtype=object)
    notes = check_header_match(kind, match, has_geometry=geom_arr is not None)
    issues = _file_issues(rows_arr, match, notes)
    return _Table(entity, canonical_cells(cells, match), rows_arr, geom_arr, issues)


def _file_issues(rows: NDArray[np.int64], match: HeaderMatch, notes: Sequence[str]) -> IssueCollector:
    """A collector for the table, holding the file-level notes on its headers."""
    headers = {column: header for header, column in match.columns.items()}
    issues = IssueCollector(rows, headers)
    for note in notes:
        issues.note(note, "表头有歧义，已忽略")
    if match.unknown:
        issues.note(f"columns not loaded (no matching field): {', '.join(match.unknown)}",
                    f"以下列未导入（无对应字段）：{'、'.join(match.unknown)}")
    return issues


def _validate_steps(progress: Progress | None, n: int, total: int) -> Callable[[int], None]:
    """``step(done)`` reporting ``done`` of ``total`` steps to ``progress`` as rows of ``n``."""

    def step(done: int) -> None:
        if progress:
            progress("validate", n * done // total, n)  # in rows, so callers can show one scale

    return step


def _place_points(
    table: _Table,
    keys: NDArray[np.object_],
    datums: NDArray[np.object_],
    *,
    geometry_crs: str | None,
    geocoder: AddressLocator | None,
    progress: Progress | None,
    jurisdiction: JurisdictionIndex | None,
    datum_stated: bool,
) -> tuple[NDArray[np.object_], int, coords.DatumGuess | None]:
    """(WGS-84 points per row, rows geocoded, datum guess) for a point kind.

    Coordinates from the file first; duplicates are rejected before the rows left without
    coordinates are geocoded.  The datum is guessed only when none was stated, neither for
    the file nor per row, and the rows state their district.
    """
    cells, values, issues = table.cells, table.values, table.issues
    n = len(cells)
    precision = values.setdefault("geocode_precision", np.full(n, None, dtype=object))
    lon, lat, has = point_coordinates(cells, table.geometry, geometry_crs, datums, issues)
    precision[has & pd.isna(precision)] = PRECISION_FROM_FILE
    _reject_duplicates(keys, issues, table.rows)
    need = np.flatnonzero(~has & ~issues.rejected)
    geocoded = 0
    if need.size:
        geocoded = locate_by_address(cells, need, lon, lat, precision, geocoder, issues, progress)
    geoms = np.full(n, None, dtype=object)
    ok = ~np.isnan(lon) & ~np.isnan(lat)
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    guess = None
    if jurisdiction is not None and not datum_stated and "datum" not in cells and "district" in values:
        guess = check_datum_guess(jurisdiction, lon, lat, has & ~issues.rejected, values["district"], issues)
    return geoms, geocoded, guess


# ----------------------------------------------------------------------------- keys


def _natural_keys(entity: Entity, values: ColumnValues, n: int) -> NDArray[np.object_]:
    """The natural key per row (None where a key column is empty)."""
    parts = [values.get(c, np.full(n, None, dtype=object)) for c in entity.key_columns]
    out = np.full(n, None, dtype=object)
    for i, tup in enumerate(zip(*parts, strict=True)):
        if all(p is not None for p in tup):
            out[i] = make_key(tup)
    return out


def _reject_duplicates(keys: NDArray[np.object_], issues: IssueCollector, rows: NDArray[np.int64]) -> None:
    """Reject each row (not yet rejected) whose key an earlier such row has, naming that row."""
    candidates = np.flatnonzero(~issues.rejected & pd.notna(keys))
    if candidates.size == 0:
        return
    series = pd.Series(keys[candidates], index=candidates)
    dup = series.duplicated(keep="first")
    if not dup.any():
        return
    first = series[~dup]
    first_pos = pd.Series(first.index.to_numpy(), index=first.to_numpy())
    for key, group in series[dup].groupby(series[dup], sort=False):
        at = int(rows[first_pos[key]])
        issues.add(group.index.to_numpy(), "key", [key] * len(group),
                   f"duplicate key, first at row {at}", f"唯一键重复，首次出现在第{at}行")


# ------------------------------------------------------------------------- features


def _features(
    entity: Entity,
    values: ColumnValues,
    keys: NDArray[np.object_],
    geoms: NDArray[np.object_],
    codes: dict[str, NDArray[np.object_]],
    keep: NDArray[np.bool_],
) -> gpd.GeoDataFrame:
    """The rows in ``keep`` as the WGS-84 GeoDataFrame ``Store.upsert`` takes (typed columns)."""
    data: dict[str, Any] = {"key": keys[keep]}
    for column in entity.columns:
        if column.name in values:
            data[column.name] = values[column.name][keep]
        else:
            data[column.name] = np.full(int(keep.sum()), None, dtype=object)
    for name in ("province_code", "city_code", "county_code"):
        data[name] = codes[name][keep] if name in codes else np.full(int(keep.sum()), None, dtype=object)
    data["synthetic"] = values["synthetic"][keep]
    # object columns: pandas would otherwise infer Arrow-backed strings, which the stores
    # iterate value by value several times more slowly
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})
    for column in entity.columns:
        if column.type == "int":
            frame[column.name] = pd.array(frame[column.name].tolist(), dtype="Int64")
        elif column.type == "float":
            frame[column.name] = pd.to_numeric(frame[column.name].astype(object)).astype("float64")
        elif column.type == "bool":
            frame[column.name] = pd.array(frame[column.name].tolist(), dtype="boolean")
    frame["synthetic"] = pd.array(frame["synthetic"].tolist(), dtype="boolean")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms[keep], crs=STORAGE_CRS), crs=STORAGE_CRS)
