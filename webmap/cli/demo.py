"""`riskmap` commands for the demo capability (registered by webmap.cli.main)."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.command("demo-data")
@click.option(
    "--scale",
    type=float,
    default=0.05,
    show_default=True,
    help="Fraction of the 2018 seed figures (1.0 = 9,911 units, 162,699 risk sources, …).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; the same seed gives the same bytes.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-data"),
    show_default=True,
    help="Folder to write the files and manifest.json into.",
)
def demo_data(scale: float, seed: int, out_dir: Path) -> None:
    """Write synthetic demo input files as a bureau hands them over (合成演示数据).

    CSV with Chinese headers (UTF-8, UTF-8 with BOM, GBK), one XLSX, one GeoJSON;
    coordinates in WGS-84, CGCS2000, GCJ-02 or BD-09, some rows address-only, a few
    percent dirty rows.  manifest.json lists each file's kind, encoding, --datum,
    rows, planted dirty rows and the load order.
    """
    from geo.capabilities.demo.files import write_demo_files
    from geo.capabilities.demo.geography import read_demo_reference
    from webmap.cli.main import _settings, user_errors

    if not scale > 0:
        raise click.BadParameter(f"must be a positive number, got {scale}", param_hint="--scale")
    settings = _settings()
    with user_errors():
        started = time.perf_counter()
        reference = read_demo_reference(settings.paths.reference_dir)
        manifest = write_demo_files(out_dir, reference, scale=scale, seed=seed)
    seconds = time.perf_counter() - started
    click.echo(f"{'file':<26} {'kind':<15} {'rows':>8} {'dirty':>6} {'no xy':>6}  datum     encoding")
    for f in manifest.files:
        click.echo(
            f"{f.path:<26} {f.kind:<15} {f.rows:>8,} {sum(f.dirty_rows.values()):>6,} {f.address_only_rows:>6,}  "
            f"{f.datum or '坐标系列':<9} {f.encoding or '-'}"
        )
    click.echo(
        f"wrote {len(manifest.files)} files ({manifest.total_rows:,} rows, synthetic) and {manifest.path} "
        f"in {seconds:.1f} s (scale {scale:g}, seed {seed})"
    )


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [demo_data]
