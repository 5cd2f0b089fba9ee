"""The API docs page (/api/docs) in real headless Chromium, under a strict Content-Security-Policy:
Swagger UI renders every operation of the app's document from the vendored files, with no inline
script, no console error and no request leaving this server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_support import open_page, serving
from flask import Response
from playwright.sync_api import Browser

from webmap.app import create_app
from webmap.settings import Settings

#: What the page needs, no more: no inline or eval'd script. Swagger UI sets style attributes and
#: adds <style> for its syntax highlighter, so styles are the one inline allowance.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(Settings(gpkg_path=tmp_path_factory.mktemp("docs_browser") / "docs.gpkg"))

    @app.after_request
    def strict_csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        return response

    with serving(app) as url:
        yield url


def test_swagger_ui_renders_every_operation_under_a_strict_csp(browser: Browser, docs_server: str,
                                                                artifacts: Path) -> None:
    document = browser.new_context().request.get(f"{docs_server}/api/v1/openapi.json").json()
    operations = sum(len(ops) for ops in document["paths"].values())
    page, errors = open_page(browser, f"{docs_server}/api/docs", ready="document.body.dataset.docsReady === '1'",
                             width=1400, height=900)
    hosts: list[str] = []
    page.on("request", lambda r: hosts.append(urlsplit(r.url).netloc))
    page.wait_for_function(f"document.querySelectorAll('.opblock').length >= {operations}", timeout=30_000)
    assert page.title().startswith("接口文档")
    assert "一张图" in page.inner_text(".info .title")
    nearest = page.locator("#operations-incident-api_incident_nearest")  # tag, then operationId
    nearest.locator(".opblock-summary").click()  # open it: its parameters with their bounds
    text = nearest.locator(".parameters").inner_text()
    assert "lon" in text and "maximum: 180" in text and "fire_station" in text
    page.screenshot(path=str(artifacts / "api_docs.png"))
    assert errors == []  # a CSP violation would be a console error
    assert set(hosts) <= {urlsplit(docs_server).netloc}
