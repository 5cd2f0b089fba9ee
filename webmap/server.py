"""Serving the map on every core: gunicorn, ``RISKMAP_WORKERS`` processes.

``riskmap serve`` (and ``riskmap demo``) call :func:`serve`:

1. In the master process the app is built once (:func:`check_and_warm`): the store is opened
   and its schema created or upgraded, the layer catalog validated and the low-zoom cluster
   counts brought up to date (PostGIS keeps them in the database, so the workers find them
   current instead of recounting together). Anything wrong stops here with one line. Then the
   store is closed: no database connection or SQLite handle crosses the fork.
2. gunicorn forks the workers (``RISKMAP_WORKERS``, default the number of cores; each with
   ``RISKMAP_THREADS`` threads). Each builds its own app after the fork (no ``preload_app``):
   its own store, PostGIS pools or GeoPackage connections and in-memory layers, its own cache.
   The master imported every module before forking, so the workers share that code's memory;
   each process then hides what it holds from the garbage collector (:func:`freeze_heap`).
3. A worker that exits is replaced by the master; a worker whose store cannot be opened at
   boot answers 503 naming the reason and tries again (:class:`Unavailable503`) rather than
   stopping the server. ``SIGTERM`` and Ctrl-C (``SIGINT``) are graceful: the workers stop
   accepting, finish the requests in flight (up to :data:`GRACEFUL_TIMEOUT_S`) and exit.

gunicorn runs on POSIX systems only; elsewhere ``riskmap serve`` says so and exits.
"""

from __future__ import annotations

import gc
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from geo.errors import RiskmapError, Unavailable
from webmap.access_log import AccessLog, AccessLogSink
from webmap.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Seconds a worker may stay silent (its main loop blocked) before the master replaces it.
WORKER_TIMEOUT_S = 120
#: Seconds the workers get to finish their requests after SIGTERM or Ctrl-C.
GRACEFUL_TIMEOUT_S = 30
#: Seconds an idle keep-alive connection is held open.
KEEPALIVE_S = 5
#: Seconds between two attempts of a worker without a store to open it again.
RETRY_S = 5.0


class ServerUnavailable(Unavailable):
    """The production server cannot run here (gunicorn needs a POSIX system)."""


def check_and_warm(settings: Settings) -> None:
    """Build the app once in this (the master) process and close it again: fail fast with
    one line, and bring the store's schema and kept cluster counts up to date once."""
    from webmap.app import create_app

    app = create_app(settings)
    app.extensions["riskmap.access_log"].close()
    app.extensions["riskmap.context"].close()


def bind_address(host: str, port: int) -> str:
    """gunicorn's ``bind`` for ``host`` and ``port`` (IPv6 addresses in brackets)."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def gunicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """The gunicorn settings ``riskmap serve`` runs with."""
    return {
        "bind": [bind_address(host, port)],
        "workers": settings.worker_count,
        "worker_class": "gthread" if settings.threads > 1 else "sync",
        "threads": settings.threads,
        "preload_app": False,  # each worker builds its own app and store after the fork
        "timeout": WORKER_TIMEOUT_S,
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "keepalive": KEEPALIVE_S,
        "accesslog": None,  # the app writes its own (webmap.access_log)
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "riskmap",
        "control_socket_disable": True,  # no shared ~/.gunicorn/gunicorn.ctl between servers
        "post_worker_init": _ignore_interrupt,
    }


def _ignore_interrupt(worker: Any) -> None:
    """Ctrl-C reaches every process of the terminal's group: a worker leaves it to the
    master, which stops the workers gracefully with SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Unavailable503:
    """The WSGI app of a worker whose store could not be opened: 503 naming the reason, and
    a new attempt to build the real app at most every :data:`RETRY_S` seconds."""

    def __init__(self, build: Callable[[], WSGIApplication], error: RiskmapError, sink: AccessLogSink) -> None:
        self._build = build
        self._error = error
        self._app: WSGIApplication | None = None
        self._tried = time.monotonic()
        self._lock = threading.Lock()
        self._logged = AccessLog(self._answer, sink)

    def _answer(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = json.dumps({"error": str(self._error), "status": 503}, ensure_ascii=False).encode("utf-8")
        start_response("503 Service Unavailable", [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body))), ("Retry-After", "5")])
        return [body]

    def _retry(self) -> WSGIApplication | None:
        with self._lock:
            if self._app is None and time.monotonic() - self._tried >= RETRY_S:
                self._tried = time.monotonic()
                try:
                    self._app = self._build()
                except RiskmapError as exc:
                    self._error = exc
                    print(f"riskmap: worker: store still unavailable: {exc}", file=sys.stderr, flush=True)
            return self._app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._app or self._retry()
        if app is not None:
            return app(environ, start_response)
        return self._logged(environ, start_response)


def freeze_heap() -> None:
    """Collect, then move every object alive now (the imported libraries, the app, the catalog)
    out of the garbage collector's sight: a full collection then walks only what requests
    allocate (it walked the whole scientific stack: up to a second on a busy machine, a fifth
    of a nearest request's CPU), and a forked worker does not copy the master's pages by
    touching their objects' headers."""
    gc.collect()
    gc.freeze()


def worker_app(settings: Settings) -> WSGIApplication:
    """The app of one worker process: built after the fork, on its own store."""
    from webmap.app import create_app

    def build() -> WSGIApplication:
        app = create_app(settings)
        freeze_heap()
        return app

    try:
        return build()
    except RiskmapError as exc:
        print(f"riskmap: worker: store unavailable, answering 503: {exc}", file=sys.stderr, flush=True)
        return Unavailable503(build, exc, AccessLogSink(settings.access_log))


def serve(settings: Settings, *, host: str, port: int, say: Callable[[str], None]) -> None:
    """Check and warm the store, then serve the app with gunicorn until SIGTERM or Ctrl-C.

    Raises :class:`ServerUnavailable` where gunicorn cannot run, and the store's and the
    settings' errors (one line) before anything listens.
    """
    try:
        from gunicorn.app.base import BaseApplication
        from gunicorn.arbiter import Arbiter
    except ImportError as exc:  # gunicorn imports fcntl: POSIX only
        raise ServerUnavailable(f"riskmap serve needs a POSIX system (Linux, macOS): {exc}") from None
    check_and_warm(settings)
    freeze_heap()  # before the fork: the workers inherit it
    options = gunicorn_options(settings, host=host, port=port)

    class GracefulArbiter(Arbiter):
        def handle_int(self) -> None:  # Ctrl-C: as SIGTERM, finish what is in flight
            self.handle_term()

    class RiskmapServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WSGIApplication:
            return worker_app(settings)

        def run(self) -> None:
            GracefulArbiter(self).run()

    say(f"serving {settings.store_kind} store on http://{bind_address(host, port)}/ with "
        f"{options['workers']} worker processes x {options['threads']} threads")
    RiskmapServer().run()
