"""`riskmap` commands for the cross-border analysis (registered by webmap.cli.main)."""

from __future__ import annotations

from pathlib import Path

import click

from geo import border as bd
from geo.capabilities import border as bq
from geo.files.exports import export, format_of


@click.command("border")
@click.option("--pair", "pairs", multiple=True, type=click.Choice(sorted(bd.PAIRS)),
              help="Border pair (repeatable; default: all three).")
@click.option("--km", type=click.FloatRange(0.1, bd.MAX_ZONE_KM), default=10.0, show_default=True,
              help="Zone half-width on each side of the border, km.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the zone features to FILE (.geojson, .csv, .xlsx or .gpkg; one pair only).")
def border_command(pairs: tuple[str, ...], km: float, out: Path | None) -> None:
    """跨界分析：边界两侧 N 公里内风险源、危化企业、未整改隐患、防护目标计数。
    Border zones: counts by side within KM km of each provincial border."""
    chosen = list(pairs) or sorted(bd.PAIRS)
    if out is not None:
        try:
            fmt = format_of(out.name)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--out") from None
        if len(chosen) != 1:
            raise click.BadParameter("give exactly one --pair with --out", param_hint="--out")
    from webmap.cli.main import _context

    ctx = _context()
    try:
        geography = bq.read_geography(ctx.store, cache=ctx.cache)
        for name in chosen:
            report = bq.border_zone(ctx.store, name, km=km, geography=geography, cache=ctx.cache)
            d = report.as_dict()
            click.echo(f"{d['pair']['zh']} {d['pair']['en']}  ±{km:g} km  border {d['border_length_m'] / 1000:.1f} km")
            click.echo(f"  {'side':<10}{'risk':>7}{'red':>6}{'orange':>8}{'yellow':>8}{'blue':>6}"
                       f"{'hazchem':>9}{'hazards':>9}{'targets':>9}")
            for s in d["by_side"]:
                click.echo(f"  {s['side'] + ' ' + (s['name'] or ''):<10}{s['risk_sources']:>7}{s['risk_red']:>6}"
                           f"{s['risk_orange']:>8}{s['risk_yellow']:>8}{s['risk_blue']:>6}{s['hazchem_sites']:>9}"
                           f"{s['hidden_hazards_open']:>9}{s['protection_targets']:>9}")
            click.echo(f"  county pairs: {len({(r['county_a'], r['county_b']) for r in d['by_county_pair']})}")
            if d["synthetic"]:
                click.echo(f"  注意 {d['notice']['zh']}")
            if out is not None:
                out.write_bytes(export(bq.zone_export(report), fmt))
                click.echo(f"wrote {out}", err=True)
    finally:
        ctx.close()


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [border_command]
