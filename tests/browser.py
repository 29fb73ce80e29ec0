"""The real browser for web tests: Debian's Chromium driven by pip's Playwright (never
``playwright install``), and the app served by uvicorn on a free local port.

A test module starts with ``sync_api = require_browser()``: it skips the module (saying why)
when chromium, playwright or uvicorn is missing. Then ``live_server(app)`` serves an app,
``launch()`` opens the browser, ``login(browser, base, name)`` signs a user of
:data:`pipeline.web.testing.USERS` in, and ``until(page, js)`` waits for the page.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pipeline.web.testing import PASSWORD

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_browser() -> Any:
    """Playwright's sync API; skips the calling test module without chromium, playwright or uvicorn."""
    if chromium() is None:
        pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("uvicorn")
    return pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def launch() -> Iterator[Any]:
    """Headless Chromium (Debian's), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def login(browser: Any, base: str, name: str) -> Any:
    """A new page signed in as ``name``; ``page.csp_violations`` collects CSP reports (the
    pages must run under their policy without one)."""
    page = browser.new_context().new_page()
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()
    return page


def until(page: Any, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until ``expression`` is true in the page (evaluated over the devtools protocol, so
    the page's CSP, which forbids eval, stays in force)."""
    end = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < end, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)
