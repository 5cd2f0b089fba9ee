"""`riskmap` commands for the site veto (registered by webmap.cli.main).

``riskmap veto --lon --lat | --wkt … --land-use school``       one site → verdict (text or --json)
``riskmap veto-batch FILE --land-use-column 用地性质 --out F``   parcels → F.geojson / .csv / .xlsx / .gpkg
``riskmap audit [--district 朝阳区] --out F``                     existing conflicts → F
``riskmap rules check FILE``                                     validate a rule set
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click
import shapely

from geo.capabilities.audit_log import (
    append,
    batch_details,
    cli_actor,
    conflicts_details,
    record_file_version,
    veto_details,
)
from geo.capabilities.context import Context
from geo.capabilities.veto import (
    audit_conflicts,
    audit_export,
    check_rule_file,
    evaluate_one,
    evaluate_parcels,
    read_parcels,
    read_rule_set,
    verdicts_export,
)
from geo.errors import BadInput
from geo.files.exports import export, format_of
from geo.veto import VERDICT_LABELS, RuleSet, RuleSetError, Verdict, site_from_geojson
from webmap.settings import Settings


# webmap.cli.main imports this module to register COMMANDS, so its helpers are imported late.
def _settings() -> Settings:
    from webmap.cli import main as cli

    return cli._settings()


def _context() -> Context:
    from webmap.cli import main as cli

    return cli._context()


def user_errors() -> AbstractContextManager[None]:
    from webmap.cli import main as cli

    return cli.user_errors()


_RULES_OPTION = click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None,
                             help="Rule set YAML (default <RISKMAP_DATA_DIR>/rules/veto_rules.yaml).")


def _rule_set(path: Path | None) -> RuleSet:
    settings = _settings()
    with user_errors():
        try:
            return read_rule_set(path or settings.paths.rules_path)
        except RuleSetError as exc:
            raise BadInput(f"rule set invalid: {exc}") from None


def _audit(ctx: Context, rules_path: Path | None, action: str, target: str, details: dict[str, Any]) -> None:
    """Append the command's audit entry, after a ``rules_change`` entry when the rule file changed."""
    record_file_version(ctx.store, "rules_change", rules_path or _settings().paths.rules_path, actor=cli_actor())
    append(ctx.store, cli_actor(), action, target=target, details=details)


def _out_format(out: Path) -> str:
    try:
        return format_of(out)
    except ValueError as exc:
        click.echo(f"riskmap: error: --out {exc}", err=True)
        sys.exit(1)


def _print_verdict(verdict: Verdict) -> None:
    label = VERDICT_LABELS[verdict.verdict]
    click.echo(f"{verdict.verdict} {label['zh']} — {verdict.land_use.code} ({verdict.land_use.zh}), "
               f"rule set {verdict.rule_set_version}")
    for r in verdict.results:
        if r.status in ("not_applicable",):
            continue
        mark = "✗" if r.hit else "·"
        click.echo(f"  {mark} {r.rule.id:<22} {r.status:<15} {r.message}  [{r.rule.citation.as_text()}]")
        for h in r.hits:
            req = f" < {h.required_m:.1f} m" if h.required_m is not None else ""
            click.echo(f"      {h.layer}:{h.key} {h.name or ''} {h.distance_m:.1f} m{req}")
    for note in verdict.notes:
        click.echo(f"  note: {note}")
    if verdict.synthetic:
        click.echo("  注意：危险源含合成演示数据 / hazards include synthetic demo data")


@click.command("veto")
@click.option("--lon", type=float, default=None, help="Site longitude (WGS-84 degrees).")
@click.option("--lat", type=float, default=None, help="Site latitude (WGS-84 degrees).")
@click.option("--wkt", default=None, help="Site geometry as WKT (WGS-84 lon/lat): POINT or POLYGON.")
@click.option("--land-use", "land_use", required=True, help="Proposed land use (code, Chinese name or alias).")
@click.option("--name", default=None, help="Project / parcel name for the record.")
@click.option("--datum", default="wgs84", show_default=True, help="Datum of the input: wgs84, gcj02, bd09.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@_RULES_OPTION
def veto_command(lon: float | None, lat: float | None, wkt: str | None, land_use: str, name: str | None,
                 datum: str, as_json: bool, rules_path: Path | None) -> None:
    """Site veto (一票否决) for one site: VETO / CONDITIONAL / PASS, every rule with distances."""
    rules = _rule_set(rules_path)
    if wkt is None and (lon is None or lat is None):
        click.echo("riskmap: error: give --lon and --lat, or --wkt", err=True)
        sys.exit(1)
    with user_errors():
        try:
            geom = shapely.from_wkt(wkt) if wkt is not None else shapely.Point(lon, lat)
        except shapely.errors.GEOSException as exc:
            raise BadInput(f"--wkt: not readable WKT: {exc}") from None
        site = site_from_geojson(shapely.geometry.mapping(geom), datum=datum)
        ctx = _context()
        verdict, stamp = evaluate_one(ctx.store, rules, site, land_use, name=name, cache=ctx.cache)
        _audit(ctx, rules_path, "veto", name or "", veto_details(verdict, stamp))
    if as_json:
        click.echo(json.dumps({**verdict.as_dict(), **stamp.as_dict()}, ensure_ascii=False, indent=2))
    else:
        _print_verdict(verdict)
        click.echo(f"  data: {stamp.as_dict()}")


@click.command("veto-batch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .geojson, .csv, .xlsx or .gpkg.")
@click.option("--land-use-column", default=None, help="Column holding the land use (default land_use / 用地性质).")
@click.option("--land-use", "land_use", default=None, help="Land use for parcels without one.")
@click.option("--layer", default=None, help="Layer of a GeoPackage (default the first).")
@click.option("--datum", default="wgs84", show_default=True, help="Datum of the coordinates: wgs84, gcj02, bd09.")
@_RULES_OPTION
def veto_batch_command(file: Path, out: Path, land_use_column: str | None, land_use: str | None, layer: str | None,
                       datum: str, rules_path: Path | None) -> None:
    """Site veto for every parcel of FILE (GeoJSON, GeoPackage, CSV with WKT or lon/lat, zipped Shapefile)."""
    fmt = _out_format(out)
    rules = _rule_set(rules_path)
    ctx = _context()
    with user_errors():
        parcels = read_parcels(file, layer=layer, datum=datum)
        result = evaluate_parcels(ctx.store, rules, parcels, land_use_column=land_use_column,
                                  default_land_use=land_use, cache=ctx.cache)
        out.write_bytes(export(verdicts_export(result), fmt))
        _audit(ctx, rules_path, "veto_batch", file.name,
               batch_details(result, source=file.name, land_use_column=land_use_column) | {"out": str(out)})
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts().items()))
    click.echo(f"{len(result.parcels)} parcels: {counts} -> {out}")


@click.command("audit")
@click.option("--district", default=None, help="District name (朝阳区) or county code (110105).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Output file: .geojson, .csv, .xlsx or .gpkg.")
@_RULES_OPTION
def audit_command(district: str | None, out: Path, rules_path: Path | None) -> None:
    """Existing protection targets already inside a hazard's required distance, per district."""
    fmt = _out_format(out)
    rules = _rule_set(rules_path)
    ctx = _context()
    with user_errors():
        result = audit_conflicts(ctx.store, rules, district=district, cache=ctx.cache)
        out.write_bytes(export(audit_export(result), fmt))
        _audit(ctx, rules_path, "veto_audit", district or "",
               conflicts_details(result, district=district) | {"out": str(out)})
    click.echo(f"{result.targets_checked} targets checked, {len(result.conflicts)} conflicts -> {out}")
    for row in result.summary.itertuples(index=False):
        click.echo(f"  {row.district}: {row.targets_in_conflict} targets, {row.veto_conflicts} veto, "
                   f"{row.conditional_conflicts} conditional")


@click.group("rules")
def rules_group() -> None:
    """Site-veto rule sets."""


@rules_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def rules_check(file: Path) -> None:
    """Validate a rule set; print each problem (rule id + field) and exit 1 if any."""
    errors = check_rule_file(file)
    if errors:
        for line in errors:
            click.echo(f"{file}: {line}", err=True)
        sys.exit(1)
    rules = read_rule_set(file)
    defaults = sum(r.citation.default for r in rules.rules)
    click.echo(f"{file}: ok — version {rules.version}, {len(rules.rules)} rules ({defaults} with default values "
               f"to verify), {len(rules.land_uses)} land uses")


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [veto_command, veto_batch_command, audit_command, rules_group]
