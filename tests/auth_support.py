"""Signing the web tests in, the way scripts and people do: accounts in the app's store, API tokens
made by :func:`geo.capabilities.accounts.create_token`, sessions through ``POST /login``.

Every user made here has the password :data:`PASSWORD`; its argon2 hash is computed once per
test session (a hash costs 0.05-0.25 s: once per test would add minutes), the rest is what
``riskmap user add`` and ``riskmap token create`` do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from geo.accounts import UserRecord
from geo.capabilities.accounts import create_token
from geo.credentials import hash_password
from webmap.auth import roles

#: Every test user's password.
PASSWORD = "test-password-0123"
#: The user the plain ``app.test_client()`` of the web tests signs in as.
ADMIN = "test_admin"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def add_user(app: Flask, name: str, role: str, scope: Iterable[str] = (), *, display_name: str | None = None) -> None:
    """Make sure ``name`` exists with ``role`` and ``scope`` (enabled, password :data:`PASSWORD`)."""
    store = app.extensions["riskmap.context"].store
    now = datetime.now(UTC)
    user = UserRecord(name, display_name or name, role, tuple(scope), password_hash(), False, now, now)
    if store.get_user(name) is None:
        store.add_user(user)
    else:
        store.update_user(replace(user, created_at=store.get_user(name).created_at))


def token_for(app: Flask, role: str, scope: Iterable[str] = (), *, user: str | None = None) -> str:
    """An API token of a user of ``role`` (and ``scope``): the secret, ``rmt_…``."""
    name = user or f"test_{role}" + ("_" + "_".join(scope) if scope else "")
    add_user(app, name, role, scope)
    with app.app_context():
        _, secret = create_token(app.extensions["riskmap.context"].store, roles(), user=name, name="tests",
                                 actor="tests")
    return secret


def bearer(client: FlaskClient, secret: str | None) -> FlaskClient:
    """``client`` sending ``Authorization: Bearer <secret>`` with every request (None: none)."""
    if secret is None:
        client.environ_base.pop("HTTP_AUTHORIZATION", None)
    else:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def anonymous(app: Flask) -> FlaskClient:
    """A client nobody signed in with (cookies kept: a session may start)."""
    return FlaskClient(app, app.response_class, use_cookies=True)


def client_as(app: Flask, role: str, scope: Iterable[str] = ()) -> FlaskClient:
    """A client with an API token of ``role`` (and ``scope``)."""
    return bearer(anonymous(app), token_for(app, role, scope))


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its hidden ``csrf_token`` field)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, *, next_path: str = "/") -> TestResponse:
    """Sign ``client`` in through the login page (its cookie then holds the session); the answer
    of ``POST /login``."""
    bearer(client, None)
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "next": next_path,
                                       "csrf_token": token})


def session_client(app: Flask, role: str, scope: Iterable[str] = (), *, name: str | None = None) -> FlaskClient:
    """A client signed in through the login page as a user of ``role`` (a session cookie)."""
    name = name or f"web_{role}"
    add_user(app, name, role, scope)
    client = anonymous(app)
    answer = sign_in(client, name)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


class AdminClient(FlaskClient):
    """``app.test_client()`` in the web tests: signed in as :data:`ADMIN` with an API token (one per app)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app: Flask = self.application
        if "riskmap.context" not in app.extensions:  # a bare Flask app of a test: nobody to sign in
            return
        secret = app.extensions.get("tests.admin_token")
        if secret is None:
            secret = app.extensions["tests.admin_token"] = token_for(app, "admin", user=ADMIN)
        bearer(self, secret)
