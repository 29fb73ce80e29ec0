"""End to end in a real browser: Debian's Chromium driven by Playwright (no browser download).

A patrol member signs in, opens today's sheet, records a verification with a photo, and the
ledger then holds the steps and the attachment; a member of another zone gets 404 for that
lead; an analyst sees the leads drawn on the map. Skipped when chromium or playwright is absent.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import require_browser

require_browser()

from PIL import Image  # noqa: E402
from sqlalchemy import select  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.schema import Event  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402
from tests.browser import live_server  # noqa: E402
from tests.browser import login as _login  # noqa: E402
from tests.browser import until as _until  # noqa: E402


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
    (run / "run.json").write_text(json.dumps({"pair_key": "abcd1234"}))  # published, not staging
    app = create_app(url, secret="e2e-secret-of-at-least-thirty-two-bytes")
    with live_server(app) as base:
        yield {"base": base, "url": url, "codes": codes, "tmp": tmp}


def test_patrol_member_records_a_verification(server: dict, browser: object) -> None:
    base, codes = server["base"], server["codes"]
    code = codes["ZA"][0]
    photo = server["tmp"] / "site.jpg"
    Image.new("RGB", (32, 24), (120, 90, 60)).save(photo, "JPEG")

    page = _login(browser, base, "pat")
    assert page.url.endswith("/sheet")  # patrol members land on today's sheet
    rows = page.locator("#sheet tr td:nth-child(2)").all_inner_texts()
    assert rows == [code]  # their own dispatched target; undispatched leads are not theirs to do
    assert page.locator("#undispatched").count() == 0
    page.click(f"text={code}")
    page.wait_for_selector("#verify-form")
    assert page.locator("input[name=outcome]:checked").count() == 0  # never preselected
    assert page.input_value("input[name=personnel]") == "pat"  # only the user, nobody else
    page.check("input[name=outcome][value=not_found]")
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


def test_supervisor_takes_a_lead_from_dispatch_to_closure(server: dict, browser: object) -> None:
    base, code = server["base"], server["codes"]["ZA"][1]
    page = _login(browser, base, "sue")
    page.goto(f"{base}/sheet")
    assert code in page.inner_text("#undispatched")  # waiting for a supervisor
    page.goto(f"{base}/leads/{code}")
    page.click("#dispatch-submit")  # nobody chosen: one sentence, same page
    assert page.inner_text("#error") == "请至少选择一名本片区人员。"
    page.check("#dispatch-form input[value=pat]")
    page.check("#dispatch-form input[value=pat2]")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#dispatch-submit")
    page.wait_for_selector("p.ok")
    assert page.inner_text("#lead-status") == "已派发"
    page.check("input[name=outcome][value=illegal]")
    page.fill("input[name=personnel]", "sue、pat")
    page.fill("input[name=stop_measure]", "责令停工")
    page.fill("input[name=notice_no]", "停-2024-001")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#verify-submit")
    page.wait_for_selector("p.ok")
    assert page.inner_text("#lead-status") == "已制止"
    page.fill("#step-reported input[name=report_no]", "报-2024-007")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#submit-reported")
    page.wait_for_selector("p.ok")
    page.fill("#step-filed textarea[name=notes]", "移交执法大队")
    page.click("#submit-filed")  # no case number: refused, the note typed is kept
    assert page.inner_text("#error") == "立案需要填写立案编号。"
    assert page.input_value("#step-filed textarea[name=notes]") == "移交执法大队"
    page.fill("#step-filed input[name=case_no]", "案-2024-031")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#submit-filed")
    page.wait_for_selector("p.ok")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#submit-rectified")
    page.wait_for_selector("p.ok")
    with page.expect_navigation():  # the next page, not this one's "ok"
        page.click("#submit-closed")
    page.wait_for_selector("p.ok")
    assert page.inner_text("#lead-status") == "已销号"
    with Ledger.open(server["url"]) as led:
        lead = led.get_lead(code)
        steps = [e["after"].get("status") for e in led.history(code) if e["action"] == "transition"]
        assert led.verify().ok
    assert steps == ["dispatched", "verified", "stopped", "reported", "filed", "rectified", "closed"]
    assert lead["assignee"] == "pat,pat2" and lead["case_no"] == "案-2024-031"
    assert lead["personnel"] == ["sue", "pat"] and lead["reports"][0]["report_no"] == "报-2024-007"

    # a hotline clue, its place picked on the map inside the supervisor's zone
    page.goto(f"{base}/clues/new")
    page.select_option("select[name=source]", "hotline")
    page.fill("textarea[name=description]", "村民反映有人夜间填土")
    box = page.locator("#clue-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.input_value("#clue-lon") != ""
    page.click("#clue-submit")
    page.wait_for_selector("#lead-status")
    new_code = page.inner_text("#lead-code")
    assert new_code not in server["codes"]["ZA"] + server["codes"]["ZB"]
    with Ledger.open(server["url"]) as led:
        clue = led.get_lead(new_code)
        created = led.history(new_code)[0]
    assert clue["source"] == "hotline" and clue["patrol_zone"] == "ZA"
    assert clue["description"] == "村民反映有人夜间填土" and created["actor"] == "sue"


def test_patrol_member_verifies_offline_and_the_event_lands_once(server: dict, browser: object) -> None:
    """Rural patrol without signal: the page works from the service worker's cache, the
    verification and its photo wait in IndexedDB, and reach the ledger once when back online."""
    base = server["base"]
    code = server["codes"]["ZA"][2]
    with Ledger.open(server["url"]) as led:
        led.transition(code, "dispatched", by="sue", fields={"assignee": "pat"})
        target = led.get_lead(code)
    photo = server["tmp"] / "offline.jpg"
    Image.new("RGB", (40, 30), (60, 90, 120)).save(photo, "JPEG")
    # a phone a few hundred metres south of the target, location allowed
    context = browser.new_context(viewport={"width": 390, "height": 844}, geolocation={
        "latitude": target["centroid_lat"] - 0.003, "longitude": target["centroid_lon"]},
        permissions=["geolocation"])
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "pat")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#sheet")
    _until(page, "document.body.dataset.cached > 0")  # lead pages stored for the day
    page.wait_for_selector("#next-target:not([hidden])")  # you are here: distance and bearing
    assert "°" in page.inner_text("#next-target") and " m" in page.inner_text("#next-target")
    page.goto(f"{base}/leads/{code}")
    _until(page, "document.body.dataset.sw == '1'")

    context.set_offline(True)
    page.reload()  # no network: the service worker's copy of the lead page
    page.wait_for_selector("#verify-form")
    page.check("input[name=outcome][value=illegal]")
    page.fill("input[name=personnel]", "pat,pat2")
    page.set_input_files("input[name=photo]", str(photo))
    page.click("#verify-submit")
    page.wait_for_selector("#queued:not([hidden])")
    _until(page, "document.body.dataset.pending == '1'")
    with Ledger.open(server["url"]) as led:
        assert led.get_lead(code)["status"] == "dispatched"  # nothing reached the ledger yet

    context.set_offline(False)  # back online: the outbox syncs by itself
    _until(page, "document.body.dataset.pending == '0'", 30.0)
    page.evaluate("LPOffline.sync()")  # a second try finds nothing left to send
    with Ledger.open(server["url"]) as led:
        lead = led.get_lead(code)
        history = led.history(code)
        assert led.verify().ok
    verified = [e for e in history if e["action"] == "transition" and e["after"].get("status") == "verified"]
    assert len(verified) == 1 and verified[0]["actor"] == "pat"
    assert [e["action"] for e in history].count("attached") == 1
    assert lead["status"] == "verified" and lead["outcome"] == "illegal"
    assert Path(lead["attachments"][0]["path"]).read_bytes() == photo.read_bytes()
    page.goto(f"{base}/leads/{code}")
    assert page.inner_text("#lead-status") == "已核查"
    context.close()
