"""What every page's config carries and how a page is rendered (``templates/base.html``, ``js/base.js``).

A page's config is the JSON its script reads: the language, the page's words, the basemap with its
datum (the script shifts data to a GCJ-02 basemap and what the user draws or clicks back to WGS-84),
the words for coded values and whether synthetic demo data is shown; the page adds its own keys.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from webmap import context
from webmap.i18n import page_strings, pick_language, value_labels


def page_language() -> str:
    """The language asked for with ``?lang=`` (``zh`` or ``en``), else the settings' default."""
    return pick_language(request.args.get("lang"), context.settings().language)


def page_config(page: str, lang: str, *, synthetic: bool, strings: dict[str, str] | None = None,
                **own: Any) -> dict[str, Any]:
    """The config of ``page`` (``map``, ``veto``, ``border``) in ``lang``: the shared keys, then ``own``.

    ``strings`` are words the page takes from elsewhere (a capability's notice) over its own.
    """
    settings = context.settings()
    return {
        "page": page, "lang": lang, "t": page_strings(page, lang) | (strings or {}), "synthetic": synthetic,
        "basemap": {"url": settings.basemap_url, "datum": settings.basemap_datum},
        "labels": value_labels(lang), **own,
    }


def render_page(template: str, config: dict[str, Any]) -> str:
    """``template`` (extending ``base.html``) with ``config`` embedded for the page's script."""
    return render_template(template, lang=config["lang"], t=config["t"], config=config,
                           synthetic=config["synthetic"])
