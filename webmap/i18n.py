"""The pages' words: Simplified Chinese by default, English on request (``?lang=en``).

The UI strings are one table, ``webmap/strings.toml`` (a ``[common]`` part every page shows and one
part per page); the words for coded values are the layer catalog's (``layers.catalog.VALUE_LABELS``).
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from layers.catalog import VALUE_LABELS

LANGUAGES = ("zh", "en")

#: Fields whose coded values are distinct enough to name a value shown without its field (a search
#: result's kind, a resource type in the incident panel, a line type); the first field naming a value wins.
BARE_VALUE_FIELDS = ("resource_type", "site_type", "target_type", "level", "kind", "geocode_precision",
                     "area_type", "line_type", "status")


def pick_language(requested: str | None, default: str) -> str:
    """``zh`` or ``en``: the requested language if known, else the default."""
    return requested if requested in LANGUAGES else default


@cache
def string_table() -> dict[str, dict[str, dict[str, str]]]:
    """``{part: {key: {"zh": ..., "en": ...}}}`` from ``strings.toml``, parts ``common`` and one per page.

    Raises ValueError naming the entry when one lacks a language (read once, at the first page).
    """
    text = resources.files("webmap").joinpath("strings.toml").read_text(encoding="utf-8")
    table: dict[str, dict[str, dict[str, str]]] = tomllib.loads(text)
    for part, entries in table.items():
        for key, texts in entries.items():
            if not isinstance(texts, dict) or sorted(texts) != sorted(LANGUAGES) or not all(texts.values()):
                raise ValueError(f"webmap/strings.toml [{part}] {key}: needs exactly a zh and an en text")
    return table


def page_strings(page: str, lang: str) -> dict[str, str]:
    """The common strings and those of ``page`` (``map``, ``veto``, ``border``) in ``lang``; the page's win."""
    table = string_table()
    return {key: texts[lang] for part in ("common", page) for key, texts in table[part].items()}


@cache
def value_labels(lang: str) -> dict[str, str]:
    """Words in ``lang`` for coded values shown without their field (``code -> word``), from the catalog's
    one table of value labels; a value no field in :data:`BARE_VALUE_FIELDS` names is shown as it is."""
    index = LANGUAGES.index(lang)
    words: dict[str, str] = {}
    for field in BARE_VALUE_FIELDS:
        for value, texts in VALUE_LABELS[field].items():
            words.setdefault(value, texts[index])
    return words
