"""Signing in and out (registered by webmap.app): ``GET /login`` the form, ``POST /login`` the
sign-in, ``POST /logout``.

The form posts back to the page without any script (``multipart/form-data``: the fields
``username``, ``password``, ``next`` and ``csrf_token``).  A success starts a session
(:func:`webmap.auth.start_session`) and goes to ``next`` — a path on this site, never
another one (:func:`webmap.auth.safe_next`).  A failure shows the form again with the reason
in words: a wrong name or password (401, never saying which), a disabled account (401), or
the lock-out with how long to wait (429 and ``Retry-After``: "请 14 分 59 秒 后再试").  Every
attempt is in the audit log (:func:`geo.capabilities.accounts.authenticate` writes it);
``POST /logout`` writes ``logout`` and ends the session.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue

from geo.capabilities.accounts import authenticate, logout
from geo.credentials import AccountLocked, AuthenticationFailed
from webmap import context
from webmap.auth import app_now, end_session, remote_address, roles, safe_next, start_session
from webmap.i18n import page_strings
from webmap.pages.base import page_config, page_language, render_page
from webmap.routes import PAGE_LANG, PUBLIC, Param, declare

blueprint = Blueprint("login", __name__)

#: Longest user name and ``next`` read from the form (characters); longer is cut (and fails).
MAX_FIELD = 512
NEXT = Param("next", "string", "where to go after signing in: a path on this site", optional=True,
             max_length=MAX_FIELD)
#: The sign-in form (JSON Schema; the OpenAPI document shows it).
LOGIN_FORM = {
    "type": "object", "required": ["username", "password", "csrf_token"],
    "properties": {
        "username": {"type": "string", "maxLength": 64},
        "password": {"type": "string", "maxLength": 1024},
        "next": {"type": "string", "maxLength": MAX_FIELD, "description": "a path on this site"},
        "csrf_token": {"type": "string", "description": "the login page's token (the session cookie's)"},
    },
}


def wait_words(seconds: int, lang: str) -> str:
    """``seconds`` as words: ``45 秒`` / ``45 s`` under a minute, ``15 分钟`` / ``15 min`` for whole
    minutes, else ``14 分 59 秒`` / ``14 min 59 s``."""
    t = page_strings("login", lang)
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return t["seconds"].format(n=seconds)
    return t["whole_minutes"].format(m=minutes) if not rest else t["minutes"].format(m=minutes, s=rest)


def _form_page(lang: str, next_path: str, *, message: str | None = None, status: int = 200,
               username: str = "") -> Response:
    config = page_config("login", lang, synthetic=False, next=next_path, message=message, username=username)
    return Response(render_page("login.html", config), status=status, mimetype="text/html")


@blueprint.get("/login")
@declare(PUBLIC, "The sign-in page (登录)", PAGE_LANG, NEXT,
         Param("ended", "string", "why the last session ended (shows a note)", optional=True, max_length=16),
         produces="text/html", tags=("pages",), answers={303: "Already signed in: a redirect to next"})
def login_page() -> ResponseReturnValue:
    lang, next_path = page_language(), safe_next(request.args.get("next"))
    if context.principal() is not None:
        return redirect(next_path, 303)
    t = page_strings("login", lang)
    notice = {"session": t["session_ended"], "out": t["signed_out"]}.get(request.args.get("ended") or "")
    return _form_page(lang, next_path, message=notice)


@blueprint.post("/login")
@declare(PUBLIC, "Sign in with a user name and password: a session cookie, then a redirect to next",
         PAGE_LANG, body=LOGIN_FORM, body_type="multipart", produces="text/html", tags=("pages",),
         answers={303: "Signed in: a redirect to next (the session cookie set)",
                  401: "Wrong name or password, or the user disabled: the form again, with the reason",
                  429: "Too many failed sign-ins: the form with the wait (Retry-After, seconds)"})
def login() -> ResponseReturnValue:
    lang = page_language()
    name = request.form.get("username", "")[:MAX_FIELD]
    next_path = safe_next(request.form.get("next", "")[:MAX_FIELD])
    t = page_strings("login", lang)
    try:
        principal = authenticate(context.store(), name, request.form.get("password", ""), roles=roles(),
                                 remote=remote_address(), now=app_now())
    except AccountLocked as exc:
        wait = exc.retry_after_s or 1
        page = _form_page(lang, next_path, message=t["locked"].format(wait=wait_words(wait, lang)), status=429,
                          username=name)
        page.headers["Retry-After"] = str(wait)
        return page
    except AuthenticationFailed as exc:  # the same words for a wrong name and a wrong password
        message = t["disabled"] if "disabled" in str(exc) else t["failed"]
        return _form_page(lang, next_path, message=message, status=401, username=name)
    start_session(principal)
    return redirect(next_path, 303)


@blueprint.post("/logout")
@declare(PUBLIC, "Sign out: the session ends (a logout entry in the audit log), then the login page",
         body={"type": "object", "properties": {"csrf_token": {"type": "string"}}}, body_type="multipart",
         produces="text/html", tags=("pages",), answers={303: "Signed out: a redirect to the login page"})
def logout_view() -> ResponseReturnValue:
    principal = context.principal()
    if principal is not None and principal.token_id is None:
        logout(context.store(), principal, remote=remote_address())
    end_session()
    return redirect(url_for("login.login_page", ended="out", lang=request.args.get("lang")), 303)
