"""The one error hierarchy: every error a user can cause or fix derives from :class:`RiskmapError`.

Each class says *what kind* of failure it is; the web app maps the kind to one HTTP status
(``webmap/errors.py``) and the CLI to one line on stderr and an exit code
(``webmap/cli/main.py``). Messages name the bad value and what would be accepted; they are
shown to users as they are, so they never hold a traceback or a secret.

===================  ======  ============================================================
class                status  when
===================  ======  ============================================================
``BadInput``         400     a parameter, file or value is malformed or out of range
``Unauthenticated``  401     nobody signed in, or the credentials (password, token) do not sign in
``Forbidden``        403     signed in, but the role may not do this (or a CSRF check failed)
``NotFound``         404     a named thing (layer, area, pair, feature) does not exist
``Conflict``         409     the request is valid but the stored data cannot answer it yet
``Unprocessable``    422     well-formed input that cannot be evaluated (an invalid geometry)
``TooManyRequests``  429     refused for a while (sign-in lock-out): ``retry_after_s`` says how long
``Unavailable``      503     a store or service is down or unreachable: try again later
===================  ======  ============================================================

The classes also derive from the built-in exception a caller would expect (``ValueError``,
``KeyError``, ``RuntimeError``), so ``except ValueError`` keeps working.  ``Unauthenticated``
and ``Forbidden`` deliberately do not derive from ``PermissionError``: it is an ``OSError``,
and code that catches a failed file operation must never swallow a refused request.
"""

from __future__ import annotations

from typing import Any


class RiskmapError(Exception):
    """Base of every error raised on bad input or an unavailable dependency."""

    def details(self) -> dict[str, Any]:
        """Fields a client can act on besides the message (JSON-ready); none by default."""
        return {}


class BadInput(RiskmapError, ValueError):
    """A parameter, file or value is malformed or out of range (HTTP 400)."""


class Unauthenticated(RiskmapError):
    """Nobody signed in, or credentials that do not sign in (HTTP 401)."""


class Forbidden(RiskmapError):
    """Signed in, but not allowed: the role lacks the permission or the layer (HTTP 403)."""


class NotFound(RiskmapError, KeyError):
    """A named thing does not exist (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class Conflict(RiskmapError, ValueError):
    """The request is valid but the stored data cannot answer it yet (HTTP 409)."""


class Unprocessable(RiskmapError, ValueError):
    """Well-formed input that cannot be evaluated, such as an invalid geometry (HTTP 422)."""


class TooManyRequests(RiskmapError, RuntimeError):
    """Refused for a while, e.g. a sign-in name locked after failures (HTTP 429 with
    ``Retry-After``): :attr:`retry_after_s` seconds to wait (None: unknown)."""

    retry_after_s: int | None = None

    def details(self) -> dict[str, Any]:
        return {} if self.retry_after_s is None else {"retry_after_s": self.retry_after_s}


class Unavailable(RiskmapError, RuntimeError):
    """A store or an outside service is down or unreachable (HTTP 503)."""
