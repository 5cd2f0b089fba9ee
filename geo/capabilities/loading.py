"""Load one bureau file into a store: read → validate → geocode → one upsert → report.

:func:`load_file` is what ``riskmap load`` and the demo builder call.  The steps:

1. read the file (:mod:`geo.files.readers`: CSV in UTF-8 / UTF-8 with BOM / GBK /
   GB18030, XLSX, GeoJSON, GeoPackage, zipped Shapefile) and hash its bytes (SHA-256);
2. match headers (:func:`geo.etl.headers.match_headers`, plus an optional mapping);
3. validate, convert datums, geocode address-only rows and assign jurisdiction codes
   (:func:`geo.etl.table.validate_table`);
4. unless ``dry_run``, or ``strict`` and some row failed: one ``store.upsert`` — one
   transaction, so an interrupted or failed load leaves the store as it was, and
   re-loading the same file reports every row unchanged.

The :class:`LoadReport` counts inserted / updated / unchanged / rejected / warned and
holds every issue; :func:`write_report` writes it as CSV (UTF-8 with BOM, so Excel
opens it) and JSON.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import yaml
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.entities import get_entity
from geo.errors import BadInput, Conflict
from geo.etl.geometry import guess_projected_crs, projected_sample
from geo.etl.headers import HeaderError, HeaderMatch, match_headers
from geo.etl.issues import Issue
from geo.etl.placement import AddressLocator
from geo.etl.table import LOADABLE_KINDS, EtlResult, validate_table
from geo.files.readers import RawTable, ReadError, read_table
from geo.jurisdiction import JurisdictionIndex, build_jurisdiction_index
from geo.stores.protocol import LoadBatch, Store

#: Progress callback: (step, done, total) with step in "read", "validate", "geocode", "upsert".
Progress = Callable[[str, int, int], None]
#: Area types the jurisdiction index needs.
JURISDICTION_AREA_TYPES = ("province", "district")


@dataclass
class LoadReport:
    """What one load did.  Counts are rows; ``issues`` are rejects and warnings in row order."""

    kind: str
    file: str
    sha256: str
    format: str
    encoding: str | None
    rows: int
    valid: int
    rejected: int
    warned: int
    geocoded: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    loaded: bool = False
    dry_run: bool = False
    strict: bool = False
    batch_id: int | None = None
    datum: str = "wgs84"
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def strict_failed(self) -> bool:
        """True when ``strict`` refused to load because some row failed."""
        return self.strict and self.rejected > 0 and not self.dry_run

    def summary_line(self) -> str:
        """One line: "units.csv → units: inserted 10, updated 0, unchanged 0, rejected 2, warned 1"."""
        counts = (f"inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}, "
                  f"rejected {self.rejected}, warned {self.warned}")
        if self.dry_run:
            counts = f"dry run, nothing written: {self.valid} valid, rejected {self.rejected}, warned {self.warned}"
        elif self.strict_failed:
            counts = (f"--strict: nothing loaded because {self.rejected} of {self.rows} rows failed "
                      f"({self.valid} valid, warned {self.warned})")
        geocoded = f", geocoded {self.geocoded}" if self.geocoded else ""
        return f"{Path(self.file).name} → {self.kind}: {counts}{geocoded}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the counts, the header mapping, timings and every issue."""
        data = asdict(self)
        data["issues"] = [asdict(i) for i in self.issues]
        data["summary"] = self.summary_line()
        return data


# ---------------------------------------------------------------------------- reference


def jurisdiction_index(store: Store | None = None, *, reference: gpd.GeoDataFrame | None = None,
                       reference_dir: Path | None = None) -> JurisdictionIndex:
    """The jurisdiction index from ``reference`` areas, else the store's areas when it has
    districts, else the vendored reference files in ``reference_dir`` (data/reference).
    Raises :class:`~geo.errors.Conflict` when none of them is there."""
    if reference is None and store is not None:
        stored = store.read("areas", where={"area_type": list(JURISDICTION_AREA_TYPES)})
        if (stored["area_type"] == "district").any():
            reference = stored
    if reference is None:
        if reference_dir is None:
            raise Conflict("no districts in the store and no reference folder: run `riskmap reference load`")
        from geo.files.reference import read_reference

        reference = read_reference("areas", reference_dir)
    return build_jurisdiction_index(reference)


# ------------------------------------------------------------------------------ mapping


def read_mapping(path: Path | str) -> dict[str, str]:
    """A header mapping file (YAML or JSON): ``{file header: canonical column}``, "" or null
    to ignore a header.  Raises ``FileNotFoundError`` or ``ValueError`` (one line)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such mapping file: {path}")
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise BadInput(f"mapping file {path.name} is not valid {path.suffix.lstrip('.').upper() or 'YAML'}: "
                         f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise BadInput(f"mapping file {path.name} must map file headers to columns ({{header: column}})")
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


# --------------------------------------------------------------------------------- load


def sha256_bytes(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(
    store: Store,
    kind: str,
    path: Path | str,
    *,
    datum: str | None = None,
    crs: str | None = None,
    mapping: Mapping[str, str] | None = None,
    strict: bool = False,
    dry_run: bool = False,
    geocoder: AddressLocator | None = None,
    reference: gpd.GeoDataFrame | JurisdictionIndex | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load ``path`` as entity ``kind`` into ``store`` (see the module docstring).

    ``datum``: the datum of the file's coordinates ("wgs84", "cgcs2000", "gcj02", "bd09");
    None means not stated (WGS-84 assumed and checked against stated districts); a
    per-row 坐标系 column overrides it.  ``crs``: the CRS of a spatial file that states none
    (a Shapefile without its .prj), e.g. "EPSG:4548"; a file stating another is refused.
    ``mapping``: file header → column.  ``strict``:
    load nothing if any row is rejected.  ``dry_run``: validate and report only.
    ``geocoder``: locates rows without coordinates (without one they are rejected).
    ``reference``: areas frame or a prepared :class:`JurisdictionIndex` (default: the
    store's areas; see :func:`jurisdiction_index` for the vendored files).

    Raises ``FileNotFoundError`` for a missing file, :class:`geo.entities.UnknownEntityError`
    for an unknown kind, :class:`geo.files.readers.ReadError` for an unreadable file,
    :class:`geo.etl.headers.HeaderError` when the headers cannot feed ``kind`` and ``ValueError``
    for a bad mapping or datum; store errors propagate (nothing is written then).
    """
    get_entity(kind)
    if kind not in LOADABLE_KINDS:
        raise BadInput(f"{kind} is not loaded from files; loadable kinds: {', '.join(LOADABLE_KINDS)}")
    path = Path(path)
    started = time.perf_counter()
    table, sha = _read(path, kind, progress)
    _settle_crs(table, crs, path)
    timings = {"read": time.perf_counter() - started}

    mark = time.perf_counter()
    match = match_headers(list(table.frame.columns), kind, mapping)
    index = reference if isinstance(reference, JurisdictionIndex) else jurisdiction_index(store, reference=reference)
    try:
        result = validate_table(
            kind,
            table.frame,
            table.rows,
            match,
            geometry=table.geometry,
            geometry_crs=table.crs,
            datum=datum,
            jurisdiction=index,
            geocoder=geocoder,
            progress=progress,
        )
    except HeaderError as exc:
        raise HeaderError(f"{path.name}: {exc}") from None
    timings["validate"] = time.perf_counter() - mark

    report = _new_report(path, sha, table, match, result, dry_run=dry_run, strict=strict)
    if not dry_run and not (strict and report.rejected) and len(result.features):
        mark = time.perf_counter()
        _upsert(store, report, result, progress)
        timings["upsert"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    report.seconds = {k: round(v, 3) for k, v in timings.items()}
    return report


def _settle_crs(table: RawTable, crs: str | None, path: Path) -> None:
    """Set the CRS of a spatial file's geometries from ``crs`` (the file stating none), or
    refuse a file that states none while its coordinates are metres, not degrees — it
    would be rejected row by row as outside Jing-Jin-Ji — naming the likely CRS."""
    if table.geometry is None:
        if crs is not None:
            raise BadInput(f"{path.name}: --crs is for spatial files (GeoJSON, GeoPackage, Shapefile); this is"
                           f" {table.format}")
        return
    if crs is not None:
        try:
            given = CRS.from_user_input(crs)
        except CRSError:
            raise BadInput(f"--crs: {crs!r} is not a coordinate reference system (e.g. EPSG:4548)") from None
        if table.crs is not None and not CRS.from_user_input(table.crs).equals(given):
            raise BadInput(f"{path.name} states its CRS ({table.crs}); --crs {crs} disagrees: leave --crs out")
        table.crs = crs
        return
    metres = projected_sample(table.geometry) if table.crs is None else None
    if metres is not None and len(metres):
        guess = guess_projected_crs(metres)
        x, y = metres[0]
        raise ReadError(f"{path.name}: no .prj (the file states no CRS) and its coordinates look like projected"
                        f" metres, not degrees (x {x:,.0f}, y {y:,.0f}{f': {guess}?' if guess else ''});"
                        f" add the .prj or give --crs {guess or 'EPSG:<code>'}")


def _read(path: Path, kind: str, progress: Progress | None) -> tuple[RawTable, str]:
    """The file's raw table and the SHA-256 of its bytes; a :class:`ReadError` names the file."""
    try:
        table = read_table(path, kind=kind)
    except ReadError as exc:
        raise ReadError(f"{path.name}: {exc}") from None
    sha = sha256_bytes(path)
    if progress:
        progress("read", len(table), len(table))
    return table, sha


def _new_report(
    path: Path, sha: str, table: RawTable, match: HeaderMatch, result: EtlResult, *, dry_run: bool, strict: bool
) -> LoadReport:
    """The report of a validated file, before anything is written."""
    return LoadReport(
        kind=result.kind,
        file=str(path),
        sha256=sha,
        format=table.format,
        encoding=table.encoding,
        rows=result.total + len(table.rejects),
        valid=len(result.features),
        rejected=result.rejected + len(table.rejects),
        warned=result.warned,
        geocoded=result.geocoded,
        dry_run=dry_run,
        strict=strict,
        datum=result.datum_used,
        columns=dict(match.columns),
        issues=_merged_issues([replace(i, column=match.columns.get(i.header or "")) for i in table.rejects],
                              result.issues),
    )


def _merged_issues(read: Sequence[Issue], found: Sequence[Issue]) -> list[Issue]:
    """File-level issues first, then every row's in row order: the records the reader could
    not read (:attr:`RawTable.rejects`) among those validation rejected or warned."""
    rows = sorted([*read, *(i for i in found if i.row is not None)], key=lambda i: i.row or 0)
    return [i for i in found if i.row is None] + rows


def _upsert(store: Store, report: LoadReport, result: EtlResult, progress: Progress | None) -> None:
    """Upsert the validated rows as one batch and record the counts on ``report``."""
    rows = len(result.features)
    if progress:
        progress("upsert", 0, rows)
    batch = LoadBatch(
        kind=report.kind,
        file_name=Path(report.file).name,
        sha256=report.sha256,
        loaded_at=datetime.now(UTC),
        rows=rows,
        note=f"riskmap load {report.kind} ({report.format}, datum {result.datum_used})",
    )
    upserted = store.upsert(report.kind, result.features, batch=batch)
    if progress:
        progress("upsert", rows, rows)
    report.inserted, report.updated, report.unchanged = upserted.inserted, upserted.updated, upserted.unchanged
    report.batch_id = upserted.batch_id
    report.loaded = True


# ------------------------------------------------------------------------------- report

#: Report CSV headers, Chinese first.
REPORT_HEADERS: tuple[str, ...] = (
    "文件 file", "行号 row", "字段 column", "表头 header", "值 value", "类型 severity", "原因 reason (zh)",
    "reason (en)",
)
_SEVERITY_ZH = {"reject": "拒绝 reject", "warning": "警告 warning"}


def report_paths(report: LoadReport, directory: Path | str | None = None) -> tuple[Path, Path]:
    """Where :func:`write_report` writes: ``<file name>.report.csv`` / ``.json`` next to the
    input, or in ``directory``."""
    source = Path(report.file)
    folder = Path(directory) if directory is not None else source.parent
    return folder / f"{source.name}.report.csv", folder / f"{source.name}.report.json"


def write_report(report: LoadReport, directory: Path | str | None = None) -> tuple[Path, Path]:
    """Write the report as CSV (UTF-8 with BOM) and JSON; returns both paths.

    The CSV has one line per issue (file-level ones without a row number); the JSON
    adds the counts, the header mapping and the timings.
    """
    csv_path, json_path = report_paths(report, directory)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    name = Path(report.file).name
    with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADERS)
        for issue in report.issues:
            writer.writerow(_issue_row(name, issue))
    json_path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return csv_path, json_path


def _issue_row(name: str, issue: Issue) -> Sequence[object]:
    return (
        name,
        "" if issue.row is None else issue.row,
        issue.column or "",
        issue.header or "",
        "" if issue.value is None else issue.value,
        _SEVERITY_ZH[issue.severity],
        issue.reason_zh,
        issue.reason,
    )
