"""``riskmap serve``: gunicorn workers on both stores, each with its own store after the fork;
crashed workers replaced; SIGTERM and Ctrl-C graceful; start-up errors in one line."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, make_url, text

from geo.stores.protocol import StoreError
from webmap import server
from webmap.server import Unavailable503, check_and_warm, gunicorn_options, worker_app
from webmap.settings import Settings

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/riskmap"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_workers_default_to_the_cores_and_take_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().worker_count == len(os.sched_getaffinity(0))
    for workers in (1, 256):
        assert Settings(workers=workers).worker_count == workers
    for threads in (1, 64):
        assert Settings(threads=threads).threads == threads
    for bad in ({"workers": 0}, {"workers": 257}, {"threads": 0}, {"threads": 65}, {"access_log": ""}):
        with pytest.raises(ValidationError):
            Settings(**bad)
    monkeypatch.setenv("RISKMAP_WORKERS", "3")
    assert Settings().worker_count == 3


def test_gunicorn_options() -> None:
    sync = gunicorn_options(Settings(workers=3, threads=1), host="127.0.0.1", port=5000)
    assert (sync["bind"], sync["workers"], sync["worker_class"]) == (["127.0.0.1:5000"], 3, "sync")
    assert sync["preload_app"] is False and sync["accesslog"] is None
    threaded = gunicorn_options(Settings(threads=2), host="::1", port=8080)
    assert threaded["bind"] == ["[::1]:8080"] and threaded["worker_class"] == "gthread"


def _open_files(pattern: str) -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [link for link in links if pattern in link]


def test_the_master_keeps_no_geopackage_handle(tmp_path: Path) -> None:
    gpkg = tmp_path / "master.gpkg"
    check_and_warm(Settings(gpkg_path=gpkg, access_log=str(tmp_path / "a.log")))
    assert gpkg.exists()
    assert _open_files(str(tmp_path)) == []


def test_the_master_keeps_no_database_connection_and_counts_clusters_once(
    make_pg_database: Callable[..., str], pg_admin_url: str,
) -> None:
    url = make_pg_database()
    check_and_warm(Settings(database_url=url))
    admin = create_engine(make_url(pg_admin_url).set(drivername="postgresql+psycopg"))
    try:
        with admin.connect() as conn:
            name = make_url(url).database
            open_conns = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                                      {"d": name}).scalar_one()
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM riskmap_cluster_spec")).scalar_one()
        engine.dispose()
    finally:
        admin.dispose()
    assert open_conns == 0
    assert kept >= 1  # the workers find the counts current


def test_a_worker_without_its_store_answers_503_and_tries_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = worker_app(Settings(database_url=UNREACHABLE, access_log="off"))
    assert isinstance(app, Unavailable503) and isinstance(app._error, StoreError)
    client_app = _wsgi_get(app)
    status, body = client_app("/api/v1/health")
    assert status == 503 and "RISKMAP_DATABASE_URL" in body["error"] and body["status"] == 503
    monkeypatch.setattr(server, "RETRY_S", 0.0)
    good = Settings(gpkg_path=tmp_path / "back.gpkg", access_log="off")
    from webmap.app import create_app

    app._build = lambda: create_app(good)
    status, body = client_app("/api/v1/health")
    assert status == 200 and body["store"]["kind"] == "geopackage"


def test_a_worker_hides_its_heap_from_the_collector(tmp_path: Path) -> None:
    try:
        worker_app(Settings(gpkg_path=tmp_path / "frozen.gpkg", access_log="off"))
        assert gc.get_freeze_count() > 10_000  # the libraries and the app: no full collection walks them
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual


def _wsgi_get(app: Any) -> Callable[[str], tuple[int, dict[str, Any]]]:
    from werkzeug.test import Client

    client = Client(app)

    def fetch(path: str) -> tuple[int, dict[str, Any]]:
        r = client.get(path)
        return r.status_code, json.loads(r.get_data())

    return fetch


# -- the real server ------------------------------------------------------------------------------

class Served:
    """``riskmap serve`` in a new session (its own process group), as a terminal would run it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log
        full = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")} | env
        self.stderr = open(log.with_suffix(".stderr"), "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webmap.cli.main", "serve", "--port", str(self.port)],
            env=full, stdout=subprocess.DEVNULL, stderr=self.stderr, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = full
        self.token = ""

    def sign_up(self) -> None:
        """A commander and an API token for the requests, made with the CLI as an administrator would."""
        def cli(*args: str, stdin: str = "") -> str:
            done = subprocess.run([sys.executable, "-m", "webmap.cli.main", *args], env=self.env, input=stdin,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        cli("user", "add", "duty", "--role", "commander", "--password-stdin", stdin="duty-password-0123\n")
        self.token = cli("token", "create", "--user", "duty", "--name", "serve test").splitlines()[-1]

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.errors()
            try:
                if get(self.url + "/api/v1/health")[0] == 200 and len(self.workers()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"not ready: {self.errors()}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def errors(self) -> str:
        return self.log.with_suffix(".stderr").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.stderr.close()


@pytest.fixture
def serve_env(request: pytest.FixtureRequest, make_pg_database: Callable[..., str], tmp_path: Path) -> dict[str, str]:
    if request.param == "postgis":
        return {"RISKMAP_DATABASE_URL": make_pg_database()}
    return {"RISKMAP_GPKG_PATH": str(tmp_path / "served.gpkg")}


@pytest.fixture
def served(serve_env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    log = tmp_path / "access.log"
    s = Served(serve_env | {"RISKMAP_WORKERS": "2", "RISKMAP_THREADS": "2", "RISKMAP_ACCESS_LOG": str(log)}, log)
    try:
        s.wait_ready()
        s.sign_up()
        yield s
    finally:
        s.stop()


def _hits(served: Served, n: int) -> None:
    for _ in range(n):
        status, body = get(served.url + "/api/v1/nearest?lon=116.4&lat=39.9&types=fire_station&k=1", served.token)
        assert status == 200 and body["resources"] == {"fire_station": []}


def _logged(served: Served, n: int, timeout_s: float = 10) -> list[dict[str, Any]]:
    """The access log's /api/v1/nearest lines, once there are ``n`` (or the timeout passed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [json.loads(line) for line in served.log.read_text().splitlines()]
        nearest = [line for line in lines if line["path"].startswith("/api/v1/nearest")]
        if len(nearest) >= n or time.monotonic() > deadline:
            return nearest
        time.sleep(0.05)


@pytest.mark.parametrize("serve_env", ["postgis", "geopackage"], indirect=True)
def test_serve_replaces_a_crashed_worker_and_stops_gracefully_on_sigterm(served: Served) -> None:
    _hits(served, 10)
    _logged(served, 10)  # a worker writes its line after the answer is sent: killed before, the line is lost
    first = served.workers()
    os.kill(first[0], signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (len(served.workers()) < 2 or first[0] in served.workers()):
        time.sleep(0.2)
    now = served.workers()
    assert len(now) == 2 and first[0] not in now and first[1] in now
    _hits(served, 10)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(60) == 0
    nearest = _logged(served, 20)
    assert len(nearest) == 20 and {line["status"] for line in nearest} == {200}
    assert "Traceback" not in served.errors()


@pytest.mark.parametrize("serve_env", ["geopackage"], indirect=True)
def test_ctrl_c_stops_every_process_gracefully(served: Served) -> None:
    workers = served.workers()
    os.killpg(served.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    assert served.proc.wait(60) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert "Traceback" not in served.errors() and "KeyboardInterrupt" not in served.errors()


def test_serve_with_an_unreachable_store_is_one_line_and_listens_nowhere(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    env |= {"RISKMAP_DATABASE_URL": UNREACHABLE}
    result = subprocess.run([sys.executable, "-m", "webmap.cli.main", "serve", "--port", str(port)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("riskmap: error:") and "RISKMAP_DATABASE_URL" in line
