"""The lifecycle forms of the web app: false-positive reasons from a fixed list, refused input
as one sentence with the values kept, steps by role, and offline submissions recorded once."""
from __future__ import annotations

import io

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from PIL import Image  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402


@pytest.fixture
def world(tmp_path) -> dict:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    codes = seed(url)
    with Ledger.open(url) as led:
        for code in codes["ZA"]:
            led.transition(code, "dispatched", by="sue", fields={"assignee": "pat,pat2"})
    with TestClient(create_app(url, secret="s" * 32)) as client:
        yield {"url": url, "codes": codes, "app": client.app}


def login(app: object, name: str) -> TestClient:
    c = TestClient(app)
    c.get("/login")
    r = c.post("/login", data={"username": name, "password": PASSWORD,
                               "csrf_token": c.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    assert r.status_code == 303
    return c


def post(c: TestClient, path: str, headers: dict | None = None, files: dict | None = None, **data: str) -> object:
    return c.post(path, data={**data, "csrf_token": c.cookies.get(auth.CSRF_COOKIE)}, files=files,
                  headers=headers, follow_redirects=False)


def test_false_positive_needs_a_reason_from_the_list(world: dict) -> None:
    pat, code = login(world["app"], "pat"), world["codes"]["ZA"][0]
    page = pat.get(f"/leads/{code}").text
    assert 'name="outcome"' in page and "checked" not in page.split('id="outcomes"')[1].split("</fieldset>")[0]
    r = post(pat, f"/leads/{code}/verify", outcome="false_positive", personnel="pat、pat2", notes="大棚")
    assert r.status_code == 422 and '<p class="error" id="error">误报请选择原因。</p>' in r.text
    assert ">大棚</textarea>" in r.text and 'value="pat、pat2"' in r.text  # input kept
    r = post(pat, f"/leads/{code}/verify?lang=en", outcome="false_positive", personnel="pat")
    assert r.status_code == 422 and "Name at least two personnel" in r.text
    r = post(pat, f"/leads/{code}/verify", outcome="false_positive", personnel="pat,pat2",
             reason="greenhouse")
    assert r.status_code == 303
    with Ledger.open(world["url"]) as led:
        lead = led.get_lead(code)
        assert lead["fp_reason"] == "greenhouse" and lead["verifications"][0]["reason"] == "greenhouse"
        assert led.history(code)[-1]["after"]["fp_reason"] == "greenhouse"


def test_ledger_refuses_unknown_reasons_and_reasons_for_other_outcomes(world: dict) -> None:
    from pipeline.ledger import TransitionError

    code = world["codes"]["ZA"][1]
    with Ledger.open(world["url"]) as led:
        for fields in ({"outcome": "false_positive", "reason": "aliens"},
                       {"outcome": "illegal", "reason": "greenhouse"}):
            with pytest.raises(TransitionError):
                led.transition(code, "verified", by="pat", fields={**fields, "personnel": "a,b"})
        assert led.get_lead(code)["status"] == "dispatched"


def test_later_steps_are_for_supervisors_and_conflicts_are_shown(world: dict) -> None:
    app, code = world["app"], world["codes"]["ZA"][2]
    pat, sue = login(app, "pat"), login(app, "sue")
    assert post(pat, f"/leads/{code}/verify", outcome="legal", personnel="pat,pat2").status_code == 303
    assert post(pat, f"/leads/{code}/step/closed").status_code == 403  # closure is a supervisor's
    assert login(app, "ana").get(f"/leads/{code}").text.count("step-form") == 0
    assert post(sue, f"/leads/{code}/step/closed").status_code == 303
    again = post(sue, f"/leads/{code}/step/closed")
    assert again.status_code == 422 and "该图斑当前为「已销号」" in again.text


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(buf, "JPEG")
    return buf.getvalue()


def test_a_synced_verification_is_recorded_once(world: dict) -> None:
    app, code = world["app"], world["codes"]["ZA"][0]
    pat, sync = login(app, "pat"), {"X-Sync": "1"}
    form = {"outcome": "not_found", "personnel": "pat,pat2", "submission_key": "k-123"}
    photo = {"photo": ("p.jpg", io.BytesIO(_jpeg()), "image/jpeg")}
    first = post(pat, f"/leads/{code}/verify", headers=sync, files=photo, **form)
    assert first.status_code == 200 and first.json() == {"ok": True, "duplicate": False}
    photo = {"photo": ("p.jpg", io.BytesIO(_jpeg()), "image/jpeg")}
    second = post(pat, f"/leads/{code}/verify", headers=sync, files=photo, **form)
    assert second.status_code == 200 and second.json()["duplicate"] is True
    other = post(login(app, "sue"), f"/leads/{code}/verify", headers=sync,
                 **{**form, "submission_key": "k-456"})
    assert other.status_code == 409 and "pat" in other.json()["error"]  # shown, not overwritten
    with Ledger.open(world["url"]) as led:
        events = [e["action"] for e in led.history(code)]
        assert events.count("attached") == 1 and led.get_lead(code)["personnel"] == ["pat", "pat2"]
        assert sum(1 for e in led.history(code) if e["after"].get("status") == "verified") == 1


def test_patrol_record_with_route_and_findings(world: dict) -> None:
    import json

    from shapely.geometry import LineString

    pat, code = login(world["app"], "pat"), world["codes"]["ZA"][0]
    page = pat.get("/patrols/new?zone=ZA")
    assert page.status_code == 200 and code in page.text
    route = json.dumps([[118.80, 32.00], [118.81, 32.01], [118.82, 32.01]])
    bad = post(pat, "/patrols", zone="ZA", personnel="pat,pat2", started_at="2024-05-02T09:00",
               route="[[118.8, 32.0]]", situation="发现堆土")
    assert bad.status_code == 422 and "巡查路线至少需要两个点。" in bad.text and "发现堆土" in bad.text
    ok = post(pat, "/patrols", zone="ZA", personnel="pat,pat2", started_at="2024-05-02T09:00",
              ended_at="2024-05-02T11:30", route=route, leads=code, situation="发现堆土",
              stop_measures="口头制止")
    assert ok.status_code == 303
    zero = post(pat, "/patrols", zone="ZA", personnel="pat,pat2", started_at="2024-05-02T14:00")
    assert zero.status_code == 303
    with Ledger.open(world["url"]) as led:
        from datetime import UTC, datetime

        done = led.patrols_between("ZA", datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 3, tzinfo=UTC))
    assert [p["zero_report"] for p in done] == [False, True]
    assert done[0]["lead_codes"] == [code] and done[0]["situation"] == "发现堆土"
    assert done[0]["route"].equals(LineString(json.loads(route)))
    assert done[0]["started_at"].hour == 1  # 09:00 China time is 01:00 UTC


def _geotagged_jpeg(lon: float, lat: float, direction: float) -> bytes:
    """A JPEG whose EXIF holds time, GPS position and camera direction, as a phone writes it."""
    from PIL import ExifTags

    def dms(x: float) -> tuple[float, float, float]:
        d = int(x)
        m = int((x - d) * 60)
        return (float(d), float(m), round(((x - d) * 60 - m) * 60, 4))

    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "2024:05:02 10:30:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2024:05:02 10:30:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: dms(lat), 3: "E", 4: dms(lon), 16: "T", 17: direction})
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 90, 90)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_photo_exif_is_kept_read_and_a_far_photo_flagged(world: dict) -> None:
    pat, (near, far) = login(world["app"], "pat"), world["codes"]["ZA"][:2]
    with Ledger.open(world["url"]) as led:
        lead = led.get_lead(near)
    lon, lat = lead["centroid_lon"], lead["centroid_lat"]
    for code, dlat in ((near, 0.0), (far, 0.02)):  # on the spot; ~2 km off
        data = _geotagged_jpeg(lon, lat + dlat, 135.0)
        r = post(pat, f"/leads/{code}/verify", files={"photo": ("p.jpg", io.BytesIO(data), "image/jpeg")},
                 outcome="not_found", personnel="pat,pat2")
        assert r.status_code == 303
        with Ledger.open(world["url"]) as led:
            (a,) = led.get_lead(code)["attachments"]
        from pathlib import Path

        assert Path(a["path"]).read_bytes() == data  # the file as taken, EXIF and all
        assert a["lat"] == pytest.approx(lat + dlat, abs=1e-5) and a["bearing"] == pytest.approx(135.0)
        assert (a["taken_at"].hour, a["taken_at"].minute) == (2, 30)  # 10:30 China time, stored in UTC
        page = pat.get(f"/leads/{code}").text
        assert ("far-photo" in page) == (code == far) and "↑135°" in page


def test_printable_lead_report(world: dict) -> None:
    pat, code = login(world["app"], "pat"), world["codes"]["ZA"][0]
    page = pat.get(f"/leads/{code}/report")
    assert page.status_code == 200 and code in page.text
    assert page.text.count("<tr><td>") >= 4  # the square's four vertices
    assert login(world["app"], "bea").get(f"/leads/{code}/report").status_code == 404
