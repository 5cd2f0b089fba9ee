"""Build the demo store: reference geography, synthetic bureau files through the real
loader, then area risk.  What ``riskmap demo`` (the README's run command) does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from geo.accounts import RoleBook
from geo.capabilities.accounts import ensure_user
from geo.capabilities.area_risk import load_config, run_area_risk
from geo.capabilities.context import DataPaths
from geo.capabilities.demo.files import write_demo_files
from geo.capabilities.demo.geography import read_demo_reference
from geo.capabilities.geocoding import LazyGeocoder
from geo.capabilities.loading import LoadReport, jurisdiction_index, load_file, write_report
from geo.files.reference import load_reference
from geo.stores.protocol import Store

Say = Callable[[str], None]

#: The scope of the demo's accounts whose role requires one: 朝阳区.
DEMO_SCOPE = ("110105",)


@dataclass
class DemoSummary:
    """What the demo build did, step by step, with timings in seconds."""

    reference: dict[str, str] = field(default_factory=dict)
    loads: list[LoadReport] = field(default_factory=list)
    area_runs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def build_demo(
    store: Store,
    *,
    work_dir: Path,
    paths: DataPaths,
    scale: float = 0.05,
    seed: int = 1,
    say: Say = print,
) -> DemoSummary:
    """Load reference data, write demo input files to ``work_dir``, load each with the
    loader (as a bureau's files would be; rejected-row reports go to ``work_dir/reports``),
    and compute area risk.  Re-running with the
    same scale and seed changes nothing (every load reports "unchanged").

    ``paths``: the data files (reference geography, area-risk parameters).
    """
    summary = DemoSummary()
    t0 = time.perf_counter()
    for kind, result in load_reference(store, paths.reference_dir).items():
        summary.reference[kind] = f"inserted {result.inserted}, updated {result.updated}, unchanged {result.unchanged}"
        say(f"reference {kind}: {summary.reference[kind]}")
    summary.seconds["reference"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    manifest = write_demo_files(work_dir, read_demo_reference(paths.reference_dir), scale=scale, seed=seed)
    say(
        f"demo data (synthetic, scale {scale}, seed {seed}): {manifest.total_rows} rows in {len(manifest.files)} "
        f"files under {work_dir}"
    )
    summary.seconds["demo_files"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    geocoder = LazyGeocoder(store, paths.reference_dir)
    index = jurisdiction_index(store)
    for entry in manifest.files:
        report = load_file(
            store, entry.kind, work_dir / entry.path, datum=entry.datum, geocoder=geocoder, reference=index
        )
        summary.loads.append(report)
        write_report(report, work_dir / "reports")
        say(report.summary_line())
    summary.seconds["loads"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    runs = run_area_risk(store, config=load_config(paths.area_config_path), reference_dir=paths.reference_dir)
    summary.area_runs = len(runs)
    summary.seconds["area_risk"] = time.perf_counter() - t0
    say(f"area risk: {len(runs)} result sets (units x methods) in {summary.seconds['area_risk']:.1f} s")
    return summary


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its password (shown once; the store keeps only the hash)."""

    name: str
    role: str
    scope: tuple[str, ...]
    password: str


def build_demo_accounts(store: Store, roles: RoleBook, *, actor: str) -> list[DemoAccount]:
    """One account per role of ``roles``, called ``demo_<role>`` (a role that requires a scope
    gets :data:`DEMO_SCOPE`, 朝阳区), each with a new random password; running it again resets
    the passwords.  The changes are audited as ``actor``."""
    accounts = []
    for role in roles.roles.values():
        scope = DEMO_SCOPE if role.requires_scope else ()
        name = f"demo_{role.name}"
        password = ensure_user(store, roles, name=name, role=role.name, scope=scope,
                               display_name=f"演示 {role.zh}", actor=actor)
        accounts.append(DemoAccount(name, role.name, scope, password))
    return accounts
