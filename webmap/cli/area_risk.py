"""`riskmap` commands for area risk (registered by webmap.cli.main).

* ``riskmap aggregate`` — compute area risk levels and store them (``area_results``);
* ``riskmap heatmap`` — the weighted kernel-density raster (GeoTIFF, EPSG:4548) plus a
  PNG and its WGS-84 bounds for the web map;
* ``riskmap area-config check FILE`` — validate ``area_risk.yaml``;
* ``riskmap major-hazard [--write]`` — GB 18218-2018 R and grade of hazardous-chemical
  sites; ``--write`` stores the grades in ``hazchem_sites`` (idempotent).

Errors a user can fix print one line and exit with status 1.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from geo.area_risk import METHODS, UNITS, AreaRiskConfig
from geo.entities import LEVEL_CODES
from geo.errors import BadInput

_CONFIG_HELP = "area_risk.yaml to use (default RISKMAP_AREA_CONFIG_PATH or <RISKMAP_DATA_DIR>/config/area_risk.yaml)."


def _config(path: Path | None, default: Path) -> AreaRiskConfig:
    from geo.capabilities.area_risk import load_config

    return load_config(path or default)


@click.command("aggregate")
@click.option("--unit", type=click.Choice([*UNITS, "all"]), default="all", show_default=True,
              help="Areas: districts, townships, EPSG:4548 grid cells, H3 cells.")
@click.option("--method", type=click.Choice([*METHODS, "all"]), default="all", show_default=True,
              help="highest (就高), weighted density, composite (INFORM-style).")
@click.option("--cell", type=float, default=None, help="Grid cell size in metres, 250–5000 (default: config, 1000).")
@click.option("--h3-res", type=int, default=None, help="H3 resolution 6–9 (default: config, 8).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP)
def aggregate(unit: str, method: str, cell: float | None, h3_res: int | None, config_path: Path | None) -> None:
    """计算区域风险 — compute area risk levels and store them with their explanations."""
    from geo.capabilities.area_risk import run_area_risk
    from webmap.cli.main import _context, user_errors

    ctx = _context()
    with user_errors():
        config = _config(config_path, ctx.paths.area_config_path)
        t0 = time.perf_counter()
        runs = run_area_risk(ctx.store, units=[unit], methods=[method], config=config, cell_m=cell, h3_res=h3_res,
                             reference_dir=ctx.paths.reference_dir)
    click.echo(f"{'unit':<9}{'method':<10}{'areas':>7}  " + " ".join(f"{c:>6}" for c in (*LEVEL_CODES, "none"))
               + f"{'retired':>8}{'seconds':>9}")
    for r in runs:
        levels = " ".join(f"{r.levels[c]:>6}" for c in (*LEVEL_CODES, "none"))
        seconds = r.prepare_s + r.compute_s + r.write_s
        click.echo(f"{r.unit:<9}{r.method:<10}{r.areas:>7}  {levels}{r.retired:>8}{seconds:>9.2f}")
    click.echo(f"run {runs[0].run_id if runs else '-'}: {len(runs)} result sets in {time.perf_counter() - t0:.1f} s")
    ctx.close()


@click.command("heatmap")
@click.option("--cell", type=float, default=None, help="Cell size in metres (default: config, 100).")
@click.option("--bandwidth", type=float, default=None, help="Kernel radius in metres (default: config, 1000).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("heatmap.tif"), show_default=True,
              help="GeoTIFF to write; FILE.png and FILE.json (WGS-84 bounds, colour ramp) are written beside it.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP)
def heatmap(cell: float | None, bandwidth: float | None, out: Path, config_path: Path | None) -> None:
    """风险热力图 — weighted kernel density of risk sources (GeoTIFF, EPSG:4548)."""
    from geo.capabilities.area_risk import compute_heatmap, render_heatmap_png, write_geotiff
    from webmap.cli.main import _context, user_errors

    ctx = _context()
    with user_errors():
        if cell is not None and not 10 <= cell <= 5000:
            raise BadInput(f"--cell {cell:g}: expected 10–5000 m")
        if bandwidth is not None and not 50 <= bandwidth <= 50_000:
            raise BadInput(f"--bandwidth {bandwidth:g}: expected 50–50000 m")
        config = _config(config_path, ctx.paths.area_config_path)
        t0 = time.perf_counter()
        grid = compute_heatmap(ctx.store, config=config, cell_m=cell, bandwidth_m=bandwidth)
        write_geotiff(grid, out, tags={"bandwidth_m": str(bandwidth or config.heatmap.bandwidth_m),
                                       "kernel": config.heatmap.kernel})
        image = render_heatmap_png(grid)
        png = out.with_suffix(".png")
        png.write_bytes(image.png)
        out.with_suffix(".json").write_text(json.dumps(
            {"bounds": image.bounds, "breaks": image.breaks, "colours": image.colours, "png": png.name},
            ensure_ascii=False, indent=2), encoding="utf-8")
    h, w = grid.values.shape
    click.echo(f"{out}: {w}×{h} cells of {grid.transform.a:g} m, max {float(grid.values.max()):.1f} weight/km² "
               f"({time.perf_counter() - t0:.1f} s); {png}")
    ctx.close()


@click.group("area-config")
def area_config() -> None:
    """区域风险参数 — the area-risk parameter file (area_risk.yaml)."""


@area_config.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def area_config_check(file: Path) -> None:
    """Validate FILE: print "ok" and the main parameters, or every problem (exit 1)."""
    from geo.area_risk import AreaConfigError
    from geo.capabilities.area_risk import load_config

    try:
        config = load_config(file)
    except FileNotFoundError:
        click.echo(f"riskmap: error: {file}: no such file", err=True)
        raise SystemExit(1) from None
    except AreaConfigError as exc:
        for problem in exc.problems:
            click.echo(f"riskmap: error: {file}: {problem}", err=True)
        raise SystemExit(1) from None
    weights = ", ".join(f"{k} {v:g}" for k, v in config.weights.items())
    click.echo(f"{file}: ok — weights {weights}; density {config.density.mode}; "
               f"{len(config.major_hazard.chemicals)} GB 18218 chemicals; heat map {config.heatmap.cell_m:g} m / "
               f"{config.heatmap.bandwidth_m:g} m")


@click.command("major-hazard")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per site instead of a table.")
@click.option("--write", is_flag=True,
              help="Store each grade in hazchem_sites.major_hazard_grade (sites whose grade is unchanged stay as they "
                   "were); without it nothing is written.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None, help=_CONFIG_HELP)
def major_hazard(as_json: bool, write: bool, config_path: Path | None) -> None:
    """重大危险源分级 — GB 18218-2018 R and grade of every site with an inventory."""
    from geo.capabilities.area_risk import assess_major_hazards, write_major_hazard_grades
    from webmap.cli.main import _context, user_errors

    ctx = _context()
    with user_errors():
        table = assess_major_hazards(ctx.store, config=_config(config_path, ctx.paths.area_config_path),
                                     reference_dir=ctx.paths.reference_dir)
        written = write_major_hazard_grades(ctx.store, table) if write else None
    for row in table.itertuples(index=False):
        if as_json:
            click.echo(json.dumps({**row._asdict(), "detail": json.loads(row.detail)}, ensure_ascii=False))
        else:
            grade = row.grade_zh or "非重大危险源"
            click.echo(f"{row.key}\t{row.name}\tS={row.s:.2f}\tα={row.alpha:g}\tR={row.r:.1f}\t{grade}")
    if not as_json:
        majors = int(table["is_major"].sum()) if len(table) else 0
        click.echo(f"{len(table)} sites with inventories, {majors} major hazard installations")
    if written is not None:
        click.echo(f"hazchem_sites.major_hazard_grade: {written.updated} updated, {written.unchanged} unchanged "
                   f"(batch {written.batch_id})", err=as_json)
    ctx.close()


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [aggregate, heatmap, area_config, major_hazard]
