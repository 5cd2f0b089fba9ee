"""The access log: one JSON line per request, whatever the status, wherever it goes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from auth_support import ADMIN, AdminClient
from flask import Flask, g
from werkzeug.test import TestResponse

from geo.errors import BadInput
from webmap.access_log import MAX_PATH_CHARS, AccessLogError, AccessLogSink, log_line, request_path, utc_iso
from webmap.app import create_app
from webmap.routes import PUBLIC, declare
from webmap.settings import Settings

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _app(tmp_path: Path, target: str) -> Flask:
    app = create_app(Settings(gpkg_path=tmp_path / "log.gpkg", access_log=target))
    app.test_client_class = _Sending
    return app


class _Sending(AdminClient):
    """A (signed-in) test client that reads every body, as a server sends it (the log line is written then)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_line_per_request_with_every_field(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    client = _app(tmp_path, str(log)).test_client()
    r = client.get("/api/v1/layers?lang=en")
    assert r.status_code == 200
    (line,) = _lines(log)
    assert list(line) == ["time", "method", "path", "status", "ms", "bytes", "remote", "user"]
    assert ISO_UTC.fullmatch(line["time"])
    assert line["method"] == "GET" and line["path"] == "/api/v1/layers?lang=en" and line["status"] == 200
    assert line["bytes"] == len(r.data) > 0 and 0 <= line["ms"] < 60_000
    assert line["remote"] == "127.0.0.1" and line["user"] == ADMIN


def test_errors_are_logged_with_their_status(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    app = _app(tmp_path, str(log))

    @app.get("/boom")
    @declare(PUBLIC, "a bug")
    def boom() -> str:
        raise RuntimeError("a bug")

    client = app.test_client()
    assert client.get("/api/v1/layers/nope/features").status_code == 404
    assert client.post("/api/v1/veto", data="nope").status_code == 400
    assert client.get("/boom").status_code == 500
    assert [(line["method"], line["status"]) for line in _lines(log)] == [("GET", 404), ("POST", 400), ("GET", 500)]


def test_the_user_comes_from_flask_g(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    app = _app(tmp_path, str(log))

    @app.before_request
    def sign_in() -> None:
        g.user_name = "区应急局 张三"

    app.test_client().get("/api/v1/health")
    assert _lines(log)[0]["user"] == "区应急局 张三"


def test_stderr_by_default_and_nothing_when_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert Settings().access_log == "-"
    _app(tmp_path, "-").test_client().get("/api/v1/health")
    err = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["path"] for line in err if line.startswith("{")] == ["/api/v1/health"]
    _app(tmp_path, "off").test_client().get("/api/v1/health")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_the_path_is_cut_at_the_limit(extra: int) -> None:
    path = "/api/v1/search"
    query = "q=" + "x" * (MAX_PATH_CHARS + extra - len(path) - 3)
    environ = {"PATH_INFO": path, "QUERY_STRING": query}
    full = f"{path}?{query}"
    assert len(full) == MAX_PATH_CHARS + extra
    logged = request_path(environ)
    if extra <= 0:
        assert logged == full
    else:
        assert len(logged) == MAX_PATH_CHARS and logged.endswith("…") and full.startswith(logged[:-1])


def test_a_request_cannot_forge_a_line() -> None:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": '/x\n{"status": 200}"', "REMOTE_ADDR": "10.0.0.1"}
    line = log_line(environ, started_s=0.0, status=404, ms=1.25, size=0)
    assert "\n" not in line
    assert json.loads(line)["path"] == '/x\n{"status": 200}"' and json.loads(line)["time"] == "1970-01-01T00:00:00.000Z"
    assert utc_iso(1.0015) == "1970-01-01T00:00:01.001Z"


def test_a_file_that_cannot_be_written_is_named_at_start_up(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "access.log"
    with pytest.raises(AccessLogError, match="RISKMAP_ACCESS_LOG") as caught:
        _app(tmp_path, str(missing))
    assert isinstance(caught.value, BadInput)


def test_two_sinks_append_whole_lines_to_one_file(tmp_path: Path) -> None:
    log = tmp_path / "shared.log"
    sinks = [AccessLogSink(str(log)), AccessLogSink(str(log))]
    for i in range(200):
        sinks[i % 2].write(json.dumps({"n": i, "pad": "字" * 300}, ensure_ascii=False))
    for sink in sinks:
        sink.close()
    assert sorted(line["n"] for line in _lines(log)) == list(range(200))
