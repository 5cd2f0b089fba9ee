"""What every page's config carries and how a page is rendered (``templates/base.html``, ``js/base.js``).

A page's config is the JSON its script reads: the language, the page's words, the basemap with its
datum (the script shifts data to a GCJ-02 basemap and what the user draws or clicks back to WGS-84),
the words for coded values, whether synthetic demo data is shown, who is signed in (name, role and
region scope in words, for the top bar) and the session's CSRF token (``js/base.js`` sends it with
every request that changes something); the page adds its own keys.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from geo.accounts import Principal
from webmap import context
from webmap.auth import csrf_token, roles
from webmap.i18n import page_strings, pick_language, value_labels


def page_language() -> str:
    """The language asked for with ``?lang=`` (``zh`` or ``en``), else the settings' default."""
    return pick_language(request.args.get("lang"), context.settings().language)


def area_names(codes: tuple[str, ...]) -> dict[str, str]:
    """The stored names of area ``codes`` (``110105`` → ``朝阳区``); a code the store does not
    hold names itself.  Read again only when the areas change."""
    ctx = context.current()

    def read() -> dict[str, str]:
        rows = ctx.store.read("areas", where={"area_code": list(codes)}, columns=["area_code", "name"])
        return {str(r.area_code): str(r.name) for r in rows.itertuples()}

    found: dict[str, str] = ctx.cache.get("pages.area_names", ctx.store.data_versions(["areas"]), codes, read)
    return {code: found.get(code, code) for code in codes}


def user_words(principal: Principal, lang: str) -> dict[str, str]:
    """The top bar's words for ``principal``: display name, role and region scope (``朝阳区``)."""
    role = roles().roles.get(principal.role)
    role_name = (role.zh if lang == "zh" else role.en) if role is not None else principal.role
    if principal.scope:
        names = area_names(principal.scope)
        scope = ("、".join(names[c] for c in principal.scope) if lang == "zh"
                 else ", ".join(f"{names[c]} ({c})" for c in principal.scope))
    else:
        scope = page_strings("common", lang)["scope_everywhere"]
    return {"name": principal.name, "display_name": principal.display_name, "role": role_name, "scope": scope}


def page_config(page: str, lang: str, *, synthetic: bool, strings: dict[str, str] | None = None,
                **own: Any) -> dict[str, Any]:
    """The config of ``page`` (``map``, ``veto``, ``border``, ``login``) in ``lang``: the shared
    keys, then ``own``.

    ``strings`` are words the page takes from elsewhere (a capability's notice) over its own.
    """
    settings = context.settings()
    principal = context.principal()
    return {
        "page": page, "lang": lang, "t": page_strings(page, lang) | (strings or {}), "synthetic": synthetic,
        "basemap": {"url": settings.basemap_url, "datum": settings.basemap_datum},
        "labels": value_labels(lang), "csrf": csrf_token(),
        "user": user_words(principal, lang) if principal is not None else None, **own,
    }


def render_page(template: str, config: dict[str, Any]) -> str:
    """``template`` (extending ``base.html``) with ``config`` embedded for the page's script."""
    return render_template(template, lang=config["lang"], t=config["t"], config=config,
                           synthetic=config["synthetic"])
