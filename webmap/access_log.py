"""The access log: one JSON line per request, under any server and in tests.

A WSGI middleware (:class:`AccessLog`) wraps the Flask app's ``wsgi_app``, so it times the
whole request, the body included, and counts the bytes really sent. Each line is a JSON
object (control characters and quotes escaped, so a request cannot forge a line)::

    {"time": "2026-01-01T08:00:00.123Z", "method": "GET", "path": "/api/v1/nearest?lon=116.4&lat=39.9",
     "status": 200, "ms": 12.3, "bytes": 1534, "remote": "127.0.0.1", "user": "-"}

``time`` is when the request arrived (UTC, ISO 8601, milliseconds); ``path`` carries the query
string and is cut to :data:`MAX_PATH_CHARS` characters (``…`` marks a cut); ``ms`` is the
duration in milliseconds until the last byte was handed to the server; ``bytes`` the body
bytes; ``remote`` the peer address the server saw (``REMOTE_ADDR``: behind a proxy, the
proxy's); ``user`` the signed-in user (``flask.g.user_name`` when a request sets it, else ``-``).

Where the lines go is ``RISKMAP_ACCESS_LOG``: ``-`` (standard error, the default), ``off``,
or a file path, appended to (each line is one ``write``, so the workers of ``riskmap serve``
can share one file).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import BadInput

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Characters of the path and query kept in a line; the rest is cut (a query can be long).
MAX_PATH_CHARS = 512
#: The WSGI environ key through which the app hands the request's user name to the log.
USER_KEY = "riskmap.user"
#: What ``RISKMAP_ACCESS_LOG`` says for standard error and for no log.
STDERR, OFF = "-", "off"


class AccessLogError(BadInput):
    """``RISKMAP_ACCESS_LOG`` names a file that cannot be appended to."""


class AccessLogSink:
    """Where the lines go: standard error, or a file opened for appending in each process.

    A file is opened on the first line a process writes (not before a fork: every worker of
    ``riskmap serve`` opens its own descriptor) and each line is written with one
    ``os.write`` on an ``O_APPEND`` descriptor, so lines of several processes do not interleave.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self._fd: int | None = None
        self._pid = 0
        self._lock = threading.Lock()
        if target not in (STDERR, OFF):
            self._check_file(Path(target))

    @staticmethod
    def _check_file(path: Path) -> None:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640))
        except OSError as exc:
            raise AccessLogError(f"RISKMAP_ACCESS_LOG: cannot append to {path}: {exc.strerror}") from None

    @property
    def enabled(self) -> bool:
        return self.target != OFF

    def write(self, line: str) -> None:
        """Write one line (``line`` has no newline); a failing write is reported on stderr once
        per line and never fails the request."""
        data = line + "\n"
        if self.target == STDERR:
            with self._lock:
                sys.stderr.write(data)
                sys.stderr.flush()
            return
        try:
            os.write(self._descriptor(), data.encode("utf-8"))
        except OSError as exc:
            sys.stderr.write(f"riskmap: access log {self.target}: {exc.strerror}\n")

    def _descriptor(self) -> int:
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                self._fd = os.open(self.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                self._pid = os.getpid()
            return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


def request_path(environ: WSGIEnvironment, limit: int = MAX_PATH_CHARS) -> str:
    """The request's path and query string (as received), cut to ``limit`` characters."""
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) or "/"
    query = environ.get("QUERY_STRING", "")
    if query:
        path += "?" + query
    if len(path) > limit:
        path = path[:limit - 1] + "…"
    return path


def utc_iso(epoch_s: float) -> str:
    """``epoch_s`` (seconds since 1970) as UTC ISO 8601 with milliseconds and a ``Z``."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def log_line(environ: WSGIEnvironment, *, started_s: float, status: int, ms: float, size: int) -> str:
    """The JSON line of one request (keys in a fixed order)."""
    return json.dumps({
        "time": utc_iso(started_s),
        "method": environ.get("REQUEST_METHOD", "-"),
        "path": request_path(environ),
        "status": status,
        "ms": round(ms, 1),
        "bytes": size,
        "remote": environ.get("REMOTE_ADDR") or "-",
        "user": environ.get(USER_KEY) or "-",
    }, ensure_ascii=False)


class _LoggedBody:
    """The response body, counted as it is sent; the line is written once, when the last
    chunk has been handed on or when the server closes the body (a client gone early)."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self._body = body
        self._done: Callable[[int], None] | None = done
        self._size = 0

    def _finish(self) -> None:
        done, self._done = self._done, None
        if done is not None:
            done(self._size)

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._size += len(chunk)
            yield chunk
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()


class AccessLog:
    """WSGI middleware writing one :func:`log_line` per request to ``sink``.

    A request that raises before answering (a bug: the server answers 500) is logged with
    status 500 and the exception propagates unchanged.
    """

    def __init__(self, app: WSGIApplication, sink: AccessLogSink) -> None:
        self.app = app
        self.sink = sink

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self.sink.enabled:
            return self.app(environ, start_response)
        started_s, t0 = time.time(), time.perf_counter()
        status = [500]

        def logging_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = int(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info)

        def done(size: int) -> None:
            ms = (time.perf_counter() - t0) * 1000
            self.sink.write(log_line(environ, started_s=started_s, status=status[0], ms=ms, size=size))

        try:
            body = self.app(environ, logging_start_response)
        except BaseException:
            done(0)
            raise
        return _LoggedBody(body, done)


def remember_user(exc: BaseException | None = None) -> None:
    """Flask teardown hook: hand ``flask.g.user_name`` (set by whoever signs the request in)
    to the access log through the WSGI environ."""
    from flask import g, request

    name = getattr(g, "user_name", None)
    if name:
        request.environ[USER_KEY] = str(name)


def install(app: Any, sink: AccessLogSink) -> None:
    """Wrap ``app`` (a Flask app) in :class:`AccessLog` writing to ``sink``."""
    app.wsgi_app = AccessLog(app.wsgi_app, sink)
    app.teardown_request(remember_user)
    app.extensions["riskmap.access_log"] = sink
