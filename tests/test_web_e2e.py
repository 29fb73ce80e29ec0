"""End to end in a real browser: Debian's Chromium driven by Playwright (no browser download).

A patrol member signs in, opens today's sheet, records a verification with a photo, and the
ledger then holds the steps and the attachment; a member of another zone gets 404 for that
lead; an analyst sees the leads drawn on the map. Skipped when chromium or playwright is absent.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
uvicorn = pytest.importorskip("uvicorn")

from PIL import Image  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    tmp = tmp_path_factory.mktemp("web-e2e")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    codes = seed(url)
    with Ledger.open(url) as led:
        led.transition(codes["ZA"][0], "dispatched", by="sue", fields={"assignee": "pat"})
    app = create_app(url, secret="e2e-secret-of-at-least-thirty-two-bytes")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    try:
        yield {"base": f"http://127.0.0.1:{port}", "url": url, "codes": codes, "tmp": tmp}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: dict) -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _login(browser: object, base: str, name: str) -> object:
    page = browser.new_context().new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_load_state()
    return page


def test_patrol_member_records_a_verification(server: dict, browser: object) -> None:
    base, codes = server["base"], server["codes"]
    code = codes["ZA"][0]
    photo = server["tmp"] / "site.jpg"
    Image.new("RGB", (32, 24), (120, 90, 60)).save(photo, "JPEG")

    page = _login(browser, base, "pat")
    assert page.url.endswith("/sheet")  # patrol members land on today's sheet
    rows = page.locator("#sheet tr td:nth-child(2)").all_inner_texts()
    assert set(rows) == set(codes["ZA"])
    page.click(f"text={code}")
    page.wait_for_selector("#verify-form")
    page.select_option("select[name=outcome]", "not_found")
    page.fill("input[name=personnel]", "pat, pat2")
    page.fill("textarea[name=notes]", "现场未见施工")
    page.set_input_files("input[name=photo]", str(photo))
    page.fill("input[name=lon]", "118.78")
    page.fill("input[name=lat]", "32.04")
    page.click("#verify-submit")
    page.wait_for_selector("p.ok")
    assert page.inner_text("#lead-status") == "已核查"
    assert "attached" in page.inner_text("#history")

    with Ledger.open(server["url"]) as led:
        lead = led.get_lead(code)
        assert lead["status"] == "verified" and lead["outcome"] == "not_found"
        assert lead["attachments"][0]["recorded_by"] == "pat"
        assert Path(lead["attachments"][0]["path"]).read_bytes() == photo.read_bytes()
        events = [(e["action"], e["actor"], e["after"].get("status")) for e in led.history(code)]
        assert ("transition", "pat", "verified") in events and events[-1][0] == "attached"

    other = _login(browser, base, "bea")
    resp = other.goto(f"{base}/leads/{code}")
    assert resp is not None and resp.status == 404
    api = other.goto(f"{base}/api/leads/{code}")
    assert api is not None and api.status == 404


def test_analyst_sees_leads_on_the_map(server: dict, browser: object) -> None:
    page = _login(browser, server["base"], "ana")
    page.wait_for_selector("#map[data-features]")
    n = len(server["codes"]["ZA"]) + len(server["codes"]["ZB"])
    assert page.get_attribute("#map", "data-features") == str(n)
    assert page.locator("path.leaflet-interactive").count() == n
