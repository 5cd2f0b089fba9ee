"""A store's failures as errors of ours, for every caller (the app, the CLI, the capabilities).

A database that is down, restarting, locked or out of space is not a bug: every store
method is wrapped (:func:`guard_store_methods`) so that such a failure leaves it as a
:class:`StoreUnavailable` (HTTP 503, with a ``Retry-After``; one line in the CLI) naming
the store and the reason, not as the driver's exception (a 500 and a traceback).  Each
store decides which of its library's errors mean what (``translate``); anything else
is a bug and passes unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from geo.errors import RiskmapError
from geo.stores.protocol import Store, StoreError

#: Seconds a client is asked to wait before trying again after a store outage: a
#: restarting PostgreSQL takes a few seconds; the pool reconnects by itself (pre-ping).
RETRY_AFTER_S = 5


class StoreUnavailable(StoreError):
    """The store is down, unreachable, busy or out of space: try again later (HTTP 503)."""

    retry_after_s = RETRY_AFTER_S


class StoreReadOnly(StoreError):
    """The store was opened read-only (a write-protected file): it serves, it does not write (HTTP 503)."""

    retry_after_s = None


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a driver's message can run to many lines)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: The Store methods every store wraps: the protocol's public ones (a store's own extras,
#: such as PostGIS's ``check``, are named by the store).
STORE_METHODS: tuple[str, ...] = tuple(
    name for name in dir(Store) if not name.startswith("_") and callable(getattr(Store, name)) and name != "close"
)

Translate = Callable[[Any, Exception], RiskmapError | None]
S = TypeVar("S", bound=type)


def guard_store_methods(translate: Translate, extra: tuple[str, ...] = ()) -> Callable[[S], S]:
    """Class decorator: each of STORE_METHODS (and ``extra``) re-raises what ``translate(store,
    exc)`` makes of a failure (an error of ours), or the failure itself when it returns None."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except RiskmapError:
                raise
            except Exception as exc:
                mine = translate(self, exc)
                if mine is None:
                    raise
                raise mine from exc

        guarded.__guarded__ = True  # type: ignore[attr-defined]
        return guarded

    def decorate(cls: S) -> S:
        for name in (*STORE_METHODS, *extra):
            method = getattr(cls, name)
            if not getattr(method, "__guarded__", False):
                setattr(cls, name, wrap(method))
        return cls

    return decorate
