"""Helpers shared by the browser tests: serve an app on a free port, open a page that
records console errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from playwright.sync_api import Browser, Page
from werkzeug.serving import make_server


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port, threaded) while the block runs; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def open_page(browser: Browser, url: str, *, ready: str, width: int, height: int) -> tuple[Page, list[str]]:
    """A new page at ``url`` once the JS expression ``ready`` holds, and the list its
    console errors and uncaught exceptions are collected in."""
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function(ready, timeout=30_000)
    return page, errors
