"""Helpers shared by the browser tests: serve an app on a free port with a signed-in user, open a page
in a browser that holds that user's session and records console errors.

Browsers sign in the way people do: the user is made with :func:`geo.capabilities.accounts.ensure_user`
(a random password, as the demo's accounts), the session comes from posting the login form once per
server (``POST /login`` with the form's CSRF token), and every page opened with :func:`new_page` gets
that session cookie.  ``tests/browser/test_sign_in.py`` signs in through the page itself.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server

from geo.capabilities.accounts import ensure_user
from webmap.auth import SESSION_COOKIE, roles

#: The session cookie of each server's signed-in user, by the server's URL.
SESSIONS: dict[str, str] = {}
#: The user each server signs in, and its password, by the server's URL.
ACCOUNTS: dict[str, tuple[str, str]] = {}


def make_user(app: Flask, name: str, role: str, scope: tuple[str, ...] = ()) -> str:
    """``name`` of ``role`` in the app's store with a fresh random password, returned."""
    with app.app_context():
        store = app.extensions["riskmap.context"].store
        return ensure_user(store, roles(), name=name, role=role, scope=scope, actor="tests")


def sign_in_over_http(url: str, name: str, password: str) -> str:
    """The session cookie of ``name`` signed in through the login form at ``url`` (no browser)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{url}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "the login page has no CSRF field"
    form = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token.group(1)}).encode()
    opener.open(urllib.request.Request(f"{url}/login", data=form, method="POST"))
    cookie = next((c.value for c in jar if c.name == SESSION_COOKIE), None)
    assert cookie, f"signing in {name} at {url} gave no session"
    return cookie


@contextmanager
def serving(app: Flask, *, role: str = "admin", scope: tuple[str, ...] = ()) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port, threaded) while the block runs, with a user of
    ``role`` signed in (:func:`new_page` opens pages with that session); yields its URL."""
    name = f"browser_{role}"
    password = make_user(app, name, role, scope)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        ACCOUNTS[url] = (name, password)
        SESSIONS[url] = sign_in_over_http(url, name, password)
        yield url
    finally:
        SESSIONS.pop(url, None)
        ACCOUNTS.pop(url, None)
        server.shutdown()


def _server_of(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def new_page(browser: Browser, url: str, **context: Any) -> Page:
    """A page in a new browser context (``context``: Playwright's options, e.g. ``viewport``) holding
    the session of the server at ``url`` (any URL of it)."""
    server = _server_of(url)
    ctx = browser.new_context(**context)
    ctx.add_cookies([{"name": SESSION_COOKIE, "value": SESSIONS[server], "url": server}])
    return ctx.new_page()


def wait_until(page: Page, expression: str, *, timeout: float = 30_000) -> None:
    """Wait until the JS ``expression`` (or a function's source) is truthy on ``page``, polling every
    50 ms for at most ``timeout`` ms.  Not ``page.wait_for_function``: its polling runs ``eval`` in
    the page, which the pages' Content-Security-Policy forbids (no ``'unsafe-eval'``), while
    ``page.evaluate`` is the DevTools protocol's and is not the page's script."""
    source = expression if expression.lstrip().startswith(("(", "function")) else f"() => ({expression})"
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(f"(() => {{ try {{ return !!(({source})()); }} catch (e) {{ return false; }} }})()"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} ms for {expression}")
        page.wait_for_timeout(50)


def open_page(browser: Browser, url: str, *, ready: str, width: int, height: int) -> tuple[Page, list[str]]:
    """A new signed-in page at ``url`` once the JS expression ``ready`` holds, and the list its
    console errors (a Content-Security-Policy violation is one) and uncaught exceptions are
    collected in."""
    page = new_page(browser, url, viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    wait_until(page, ready)
    return page, errors
