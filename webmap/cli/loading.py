"""`riskmap load KIND FILE`: validate a bureau file and upsert it into the configured store.

Exit status:

* 0 — the load ran (rejected rows are in the report, not an error); also a dry run;
* 1 — unusable input, one line on stderr: missing file, unknown kind, unreadable file or
  encoding, no usable header match (naming the missing required columns), bad mapping
  file, store errors;
* 2 — ``--strict`` and at least one row failed: nothing was loaded (the report says why).

The report (every rejected or warned row with file, row, column, value and the reason
in Chinese and English) is written as ``FILE.report.csv`` (UTF-8 with BOM, opens in
Excel) and ``FILE.report.json`` next to the input, or in ``--report DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from geo.capabilities.geocoding import LazyGeocoder
from geo.coords import DATUMS
from geo.errors import BadInput
from geo.etl.table import LOADABLE_KINDS

#: Exit status when --strict refuses to load.
EXIT_STRICT_FAILED = 2

_STEP_LABELS = {"read": "读取 read", "validate": "校验 validate", "geocode": "地理编码 geocode",
                "upsert": "写入 upsert"}


class ProgressPrinter:
    """Progress of a load: tqdm bars on a terminal; otherwise plain lines for long steps only."""

    #: Without a terminal, only steps over this many rows print (at 0, 25, 50, 75 and 100 %).
    PLAIN_FROM = 10_000

    def __init__(self, *, tty: bool | None = None) -> None:
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._bars: dict[str, Any] = {}
        self._shown: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        label = _STEP_LABELS.get(step, step)
        if self.tty:
            from tqdm import tqdm

            bar = self._bars.get(step)
            if bar is None:
                bar = self._bars[step] = tqdm(total=total, desc=label, file=sys.stderr, leave=False, unit="行")
            bar.total = total
            bar.n = done
            bar.refresh()
            if done >= total:
                bar.close()
            return
        if total < self.PLAIN_FROM:
            return
        quarter = 4 * done // total
        if self._shown.get(step) == quarter:
            return
        self._shown[step] = quarter
        click.echo(f"{label}: {done}/{total}", err=True)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


@click.command("load")
@click.argument("kind", metavar="KIND")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--datum", type=click.Choice(DATUMS), default=None,
              help="Datum of the file's coordinates (default: wgs84, checked against stated districts); "
                   "a 坐标系 column overrides it per row.")
@click.option("--crs", default=None,
              help="CRS of a spatial file that states none (a Shapefile without its .prj), e.g. EPSG:4548.")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="YAML or JSON file mapping file headers to columns (\"\" to ignore a header).")
@click.option("--strict", is_flag=True, help="Load nothing if any row is rejected (exit status 2).")
@click.option("--dry-run", is_flag=True, help="Validate and write the report; change nothing.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for FILE.report.csv/.json (default: next to FILE).")
@click.option("--no-geocode", is_flag=True, help="Reject rows without coordinates instead of geocoding them.")
def load(
    kind: str,
    file: Path,
    datum: str | None,
    crs: str | None,
    mapping_file: Path | None,
    strict: bool,
    dry_run: bool,
    report_dir: Path | None,
    no_geocode: bool,
) -> None:
    """Load FILE (CSV/XLSX/GeoJSON/GeoPackage/zipped Shapefile) as KIND.

    KIND is one of: units, risk_sources, hazchem_sites, hidden_hazards, resources,
    protection_targets, lines, areas, parcels.  Chinese or English headers are
    recognised; rows that fail validation are reported, the rest are upserted by
    natural key in one transaction (re-running the same file changes nothing).
    """
    from geo.capabilities.audit_log import append, cli_actor, load_details
    from geo.capabilities.loading import jurisdiction_index, load_file, read_mapping, write_report
    from webmap.cli.main import _context, user_errors

    with user_errors():
        if kind not in LOADABLE_KINDS:
            raise BadInput(f"unknown kind {kind!r}; one of: {', '.join(LOADABLE_KINDS)}")
        if not file.is_file():
            raise FileNotFoundError(f"no such file: {file}")
        mapping = read_mapping(mapping_file) if mapping_file else None
    ctx = _context()
    progress = ProgressPrinter()
    geocoder = None if no_geocode else LazyGeocoder(ctx.store, ctx.paths.reference_dir)
    try:
        with user_errors():
            index = jurisdiction_index(ctx.store, reference_dir=ctx.paths.reference_dir)
            report = load_file(ctx.store, kind, file, datum=datum, crs=crs, mapping=mapping, strict=strict,
                               dry_run=dry_run, geocoder=geocoder, reference=index, progress=progress)
            csv_path, _ = write_report(report, report_dir)
            append(ctx.store, cli_actor(), "load", target=report.kind, details=load_details(report),
                   outcome="refused" if report.strict_failed else "ok")
    finally:
        progress.close()
        ctx.close()
    click.echo(report.summary_line())
    if report.issues:
        click.echo(f"report: {csv_path} (+ .json)", err=True)
    if report.strict_failed:
        sys.exit(EXIT_STRICT_FAILED)


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [load]
