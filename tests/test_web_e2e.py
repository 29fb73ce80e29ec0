"""End to end in a real browser: Debian's Chromium driven by Playwright (no browser download).

A patrol member signs in, opens today's sheet, records a verification with a photo, and the
ledger then holds the steps and the attachment; a member of another zone gets 404 for that
lead; an analyst sees the leads drawn on the map. Skipped when chromium or playwright is absent.
"""
from __future__ import annotations

import json
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
from sqlalchemy import select  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.schema import Event  # noqa: E402
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
        w, south, e, north = led.leads_frame().total_bounds
    run = tmp / "20240401_20240501_abcd1234"  # the run's imagery, as the runner lays it out
    run.mkdir()
    for which, colour in (("before", (30, 120, 30)), ("after", (200, 180, 150))):
        Image.new("RGB", (64, 64), colour).save(run / f"overlay_{which}.png")
    (run / "overlay.json").write_text(json.dumps({
        "bounds": [[south - 0.01, w - 0.01], [north + 0.01, e + 0.01]], "before_date": "2024-04-01",
        "after_date": "2024-05-01", "run": run.name}))
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


def _until(page: object, expression: str, timeout_s: float = 30.0) -> None:
    """Wait until ``expression`` is true in the page (evaluated over the devtools protocol, so
    the page's CSP, which forbids eval, stays in force)."""
    import time

    end = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < end, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def _login(browser: object, base: str, name: str) -> object:
    page = browser.new_context().new_page()
    page.csp_violations = []  # the pages must run under their CSP without one
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
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
    assert page.locator("#history tr[data-action=attached]").count() == 1
    assert "上传附件" in page.inner_text("#history")  # actions in the interface's language
    img = page.locator("#attachments img")  # the photo itself, shown to who may see the lead
    assert img.count() == 1
    _until(page, "document.querySelector('#attachments img').naturalWidth > 0")
    assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [32, 24]
    photo_url = base + img.get_attribute("src")

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
    seen = other.goto(photo_url)
    assert seen is not None and seen.status == 404


def test_patrol_member_files_a_zero_report(server: dict, browser: object) -> None:
    page = _login(browser, server["base"], "bea")
    page.wait_for_selector("#zero-form")
    page.fill("#zero-form input[name=personnel]", "bea、bea2")  # as typed on a Chinese phone
    page.fill("#zero-form input[name=location]", "乙片区北段")
    page.click("#zero-submit")
    page.wait_for_selector("p.ok")
    assert "零报告" in page.inner_text("#patrols")
    with Ledger.open(server["url"]) as led:
        rows = led.read(lambda c: c.execute(select(Event.actor, Event.after)
                                            .where(Event.action == "patrol_recorded")).all())
        assert led.verify().ok
    assert len(rows) == 1
    actor, after = rows[0].actor, json.loads(rows[0].after)
    assert after["zero_report"] is True and after["personnel"] == ["bea", "bea2"]
    assert actor == "bea" and after["location"] == "乙片区北段"
    # the zone is bea's (ZB); the same form aimed at ZA is refused and records nothing
    resp = page.request.post(f"{server['base']}/sheet/zero-report", form={
        "zone": "ZA", "personnel": "bea,bea2", "started_at": "2024-05-02T09:00",
        "csrf_token": page.input_value("#zero-form input[name=csrf_token]")}, max_redirects=0)
    assert resp.status == 404


def test_analyst_sees_leads_on_the_map(server: dict, browser: object) -> None:
    page = _login(browser, server["base"], "ana")
    page.wait_for_selector("#map[data-features]")
    n = len(server["codes"]["ZA"]) + len(server["codes"]["ZB"])
    assert page.get_attribute("#map", "data-features") == str(n)
    assert page.locator("path.leaflet-interactive").count() == n
    # the run's own imagery lies under the leads, after by default, before at a click
    assert page.get_attribute("#map", "data-imagery") == "1"
    overlay = page.locator("img.leaflet-image-layer")
    assert overlay.count() == 1 and overlay.get_attribute("src").endswith("/after.png")
    page.click("#imagery button[data-which=before]")
    assert overlay.get_attribute("src").endswith("/before.png")
    _until(page, "document.querySelector('img.leaflet-image-layer').naturalWidth == 64")
    page.select_option("select[name=zone]", "ZB")  # filters apply at once
    _until(page, f"document.getElementById('map').dataset.features == '{len(server['codes']['ZB'])}'")
    page.goto(f"{server['base']}/leads/{server['codes']['ZA'][0]}")
    page.wait_for_selector("#lead-map .leaflet-interactive")  # the lead page's map script ran
    assert page.csp_violations == []
