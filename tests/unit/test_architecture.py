"""The layout's rules, checked on the source: which room may import which, and small functions.

Rooms (README, "Architecture"): the pure core ``geo`` (its modules and sub-packages other
than the three below), ``geo.stores``, ``geo.files``, ``geo.capabilities``, ``layers`` and
``webmap``. Imports flow one way::

    webmap -> layers, geo.capabilities -> geo.files -> geo.stores -> geo (core)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE_ROOMS = ("geo.stores", "geo.files", "geo.capabilities")

#: What each room may import of ours (a room may always import itself).
ALLOWED: dict[str, tuple[str, ...]] = {
    "geo": ("geo",),  # the core: nothing outside the core (checked below by excluding the rooms)
    "geo.stores": ("geo",),
    "geo.files": ("geo",),
    "geo.capabilities": ("geo",),
    "layers": ("geo", "layers"),
    "webmap": ("geo", "layers", "webmap"),
}
#: Rooms each room must not import even though they sit inside an allowed prefix.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "geo": OUTSIDE_ROOMS,
    "geo.stores": ("geo.files", "geo.capabilities"),
    "geo.files": ("geo.capabilities",),
    "geo.capabilities": (),
    "layers": ("geo.files", "geo.capabilities"),
    "webmap": (),
}
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _room(module: str) -> str:
    for room in (*OUTSIDE_ROOMS, "geo", "layers", "webmap"):
        if module == room or module.startswith(room + "."):
            return room
    raise AssertionError(module)


def _sources() -> list[Path]:
    return [p for top in ("geo", "layers", "webmap") for p in sorted((ROOT / top).rglob("*.py"))
            if "migrations" not in p.parts]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in ("geo", "layers", "webmap")}


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path: Path) -> None:
    room = _room(_module_name(path))
    bad = sorted(name for name in _imports(path)
                 if not _within(name, ALLOWED[room]) or _within(name, FORBIDDEN[room]))
    assert bad == [], f"{room} must not import {bad}"


def test_no_function_over_80_lines_outside_scripts() -> None:
    long = []
    for top in ("geo", "layers", "webmap", "tests"):
        for path in sorted((ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_every_room_is_a_package_with_a_docstring() -> None:
    for room in ("geo", *OUTSIDE_ROOMS, "layers", "webmap", "webmap.api", "webmap.pages", "webmap.cli"):
        init = ROOT / room.replace(".", "/") / "__init__.py"
        assert init.is_file(), room
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init} says what the room holds"
