"""Role boundaries of the web app's API and forms (FastAPI TestClient, temp SQLite ledger)."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")
pytest.importorskip("jwt")
from fastapi.testclient import TestClient  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402

SECRET = "test-secret-of-at-least-thirty-two-bytes"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    codes = seed(url)
    chips = tmp / "20240401_20240501_abcd1234" / "chips"
    chips.mkdir(parents=True)
    (chips / f"{codes['ZA'][0]}.png").write_bytes(PNG)
    (chips.parent / "run.json").write_text("{}", encoding="utf-8")  # a published run folder
    app = create_app(url, secret=SECRET, max_upload_bytes=4096)
    with TestClient(app) as client:
        yield {"url": url, "codes": codes, "client": client, "tmp": tmp}


def bearer(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/api/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def listed(client: TestClient, name: str, **params: str) -> set[str]:
    r = client.get("/api/leads", headers=bearer(client, name), params=params)
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "FeatureCollection"
    return {f["properties"]["code"] for f in r.json()["features"]}


def test_analyst_sees_all(world: dict) -> None:
    c, codes = world["client"], world["codes"]
    assert listed(c, "ana") == set(codes["ZA"]) | set(codes["ZB"])
    assert listed(c, "ana", zone="ZB") == set(codes["ZB"])
    for code in codes["ZB"]:
        assert c.get(f"/api/leads/{code}", headers=bearer(c, "ana")).status_code == 200


@pytest.mark.parametrize("name,own,other", [("sue", "ZA", "ZB"), ("pat", "ZA", "ZB"), ("bea", "ZB", "ZA")])
def test_zone_roles_see_only_their_zones(world: dict, name: str, own: str, other: str) -> None:
    c, codes = world["client"], world["codes"]
    head = bearer(c, name)
    assert listed(c, name) == set(codes[own])
    assert listed(c, name, zone=other) == set()
    detail = c.get(f"/api/leads/{codes[own][0]}", headers=head)
    assert detail.status_code == 200
    assert detail.json()["code"] == codes[own][0]
    assert any(e["action"] == "created" for e in detail.json()["history"])
    for code in codes[other]:
        r = c.get(f"/api/leads/{code}", headers=head)
        assert r.status_code == 404
        assert code not in r.text
    assert c.get("/api/leads/NOPE-2024-9999", headers=head).status_code == 404


def test_filters(world: dict) -> None:
    c, codes = world["client"], world["codes"]
    everything = set(codes["ZA"]) | set(codes["ZB"])
    assert listed(c, "ana", status="new") == everything
    assert listed(c, "ana", status="closed") == set()
    assert listed(c, "ana", level="1") == everything
    assert listed(c, "ana", level="3") == set()
    assert listed(c, "ana", overdue="false") == everything
    assert listed(c, "ana", overdue="true") == set()
    assert c.get("/api/leads", headers=bearer(c, "ana"), params={"status": "bogus"}).status_code == 422


def test_no_token_bad_password_and_expired_token(world: dict) -> None:
    c, code = world["client"], world["codes"]["ZA"][0]
    fresh = TestClient(c.app)
    assert fresh.get("/api/leads").status_code == 401
    assert fresh.get(f"/api/leads/{code}").status_code == 401
    assert fresh.post("/api/token", data={"username": "pat", "password": "wrong"}).status_code == 401
    assert fresh.post("/api/token", data={"username": "ghost", "password": PASSWORD}).status_code == 401
    old = datetime.now(UTC) - timedelta(hours=9)
    expired = auth.issue(SECRET, "ana", "api", auth.TOKEN_TTL, now=old)
    assert fresh.get("/api/leads", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    forged = auth.issue("another-secret-of-thirty-two-bytes!!", "ana", "api", auth.TOKEN_TTL)
    assert fresh.get("/api/leads", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    session = auth.issue(SECRET, "ana", "session", auth.TOKEN_TTL)  # wrong kind of token
    assert fresh.get("/api/leads", headers={"Authorization": f"Bearer {session}"}).status_code == 401
    assert fresh.get("/healthz").json() == {"status": "ok"}
    assert "/api/leads/{code}" in fresh.get("/openapi.json").json()["paths"]


def login(app: object, name: str) -> TestClient:
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": name, "password": PASSWORD,
                                    "csrf_token": client.cookies.get(auth.CSRF_COOKIE)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    cookie = r.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    return client


def test_login_needs_csrf_and_pages_need_login(world: dict) -> None:
    app = world["client"].app
    anon = TestClient(app)
    assert anon.get("/", follow_redirects=False).headers["location"] == "/login"
    anon.get("/login")
    r = anon.post("/login", data={"username": "pat", "password": PASSWORD})
    assert r.status_code == 403
    r = anon.post("/login", data={"username": "pat", "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 403


def test_pages_respect_zones(world: dict) -> None:
    app, codes = world["client"].app, world["codes"]
    pat = login(app, "pat")
    page = pat.get(f"/leads/{codes['ZA'][0]}")
    assert page.status_code == 200 and "前后影像" in page.text and "chip.png" in page.text
    assert pat.get(f"/leads/{codes['ZA'][0]}/chip.png").content == PNG
    assert "Before / after" in pat.get(f"/leads/{codes['ZA'][0]}?lang=en").text
    assert pat.get(f"/leads/{codes['ZB'][0]}").status_code == 404
    assert pat.get(f"/leads/{codes['ZB'][0]}/chip.png").status_code == 404
    # nothing dispatched yet: a patrol member's sheet has no targets, a supervisor's lists the
    # zone's leads as waiting for dispatch
    sheet = pat.get("/sheet")
    assert sheet.status_code == 200 and not any(code in sheet.text for code in codes["ZA"])
    waiting = login(app, "sue").get("/sheet").text
    assert 'id="undispatched"' in waiting and all(code in waiting for code in codes["ZA"])
    assert not any(code in waiting for code in codes["ZB"])
    assert login(app, "sue").get("/sheet?zone=ZB").text.count(codes["ZB"][0]) == 0  # falls back to ZA
    assert pat.get("/sheet.gpx").text.count("<wpt") == 0
    assert {f["id"] for f in pat.get("/api/leads").json()["features"]} == set(codes["ZA"])


def _verify(client: TestClient, code: str, csrf: bool = True, photo: bytes | None = PNG) -> object:
    data = {"outcome": "illegal", "personnel": "pat, pat2", "stop_measure": "停工",
            "notice_no": f"N-{code}", "notes": "现场在建", "taken_at": "2024-05-02T10:00",
            "lon": "118.8", "lat": "32.0"}
    if csrf:
        data["csrf_token"] = client.cookies.get(auth.CSRF_COOKIE)
    files = {"photo": ("site.png", io.BytesIO(photo), "image/png")} if photo is not None else None
    return client.post(f"/leads/{code}/verify", data=data, files=files, follow_redirects=False)


def test_verification_form(world: dict) -> None:
    app, codes, url = world["client"].app, world["codes"], world["url"]
    code = codes["ZA"][1]
    with Ledger.open(url) as led:
        led.transition(code, "dispatched", by="sue", fields={"assignee": "pat"})
    pat = login(app, "pat")
    assert _verify(pat, code, csrf=False).status_code == 403
    assert _verify(pat, code, photo=b"GIF89a" + b"\x00" * 32).status_code == 415
    assert _verify(pat, code, photo=b"\xff\xd8\xff" + b"\x00" * 5000).status_code == 413
    assert _verify(pat, codes["ZB"][0]).status_code == 404
    assert _verify(login(app, "ana"), code).status_code == 403
    with Ledger.open(url) as led:
        assert led.get_lead(code)["status"] == "dispatched"  # nothing written by refused posts
    r = _verify(pat, code)
    assert r.status_code == 303 and r.headers["location"].endswith("saved=1")
    with Ledger.open(url) as led:
        lead = led.get_lead(code)
        assert lead["status"] == "stopped" and lead["outcome"] == "illegal"
        assert lead["personnel"] == ["pat", "pat2"] and lead["notice_no"] == f"N-{code}"
        assert len(lead["attachments"]) == 1 and lead["attachments"][0]["lon"] == pytest.approx(118.8)
        assert Path(lead["attachments"][0]["path"]).read_bytes() == PNG
        actions = [(e["action"], e["actor"]) for e in led.history(code)]
        assert ("attached", "pat") in actions and actions.count(("transition", "pat")) == 2
        assert led.verify().ok


def test_dispatch_is_for_supervisors(world: dict) -> None:
    app, codes, url = world["client"].app, world["codes"], world["url"]
    code = codes["ZA"][2]
    pat = login(app, "pat")
    form = {"assignee": "pat", "csrf_token": pat.cookies.get(auth.CSRF_COOKIE)}
    assert pat.post(f"/leads/{code}/dispatch", data=form, follow_redirects=False).status_code == 403
    sue = login(app, "sue")
    form["csrf_token"] = sue.cookies.get(auth.CSRF_COOKIE)
    assert sue.post(f"/leads/{codes['ZB'][1]}/dispatch", data=form).status_code == 404
    assert sue.post(f"/leads/{code}/dispatch", data=form, follow_redirects=False).status_code == 303
    with Ledger.open(url) as led:
        assert led.get_lead(code)["status"] == "dispatched"
        assert led.history(code)[-1]["actor"] == "sue"


def test_users_cli_checks_zones_and_password(world: dict, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app

    runner = CliRunner()
    args = ["users", "add", "zed", "--role", "patrol", "--password-stdin", "--ledger", world["url"]]
    res = runner.invoke(app, [*args, "--zones", "ZQ"], input=PASSWORD + "\n")
    assert res.exit_code != 0 and "ZQ" in str(res.exception or res.output)
    res = runner.invoke(app, [*args, "--zones", "ZB"], input=PASSWORD + "\n")
    assert res.exit_code == 0, res.output
    c = world["client"]
    assert listed(c, "zed") == set(world["codes"]["ZB"])


def test_team_filter_and_class_labels(world: dict) -> None:
    c, codes = world["client"], world["codes"]
    assert listed(c, "ana", team="pat") == set(codes["ZA"])  # a member of "pat,pat2" or "pat"
    assert listed(c, "ana", team="bea2") == set(codes["ZB"])      # one member's name
    assert listed(c, "pat", team="bea") == set()                   # never beyond one's zones
    sheet = login(c.app, "pat").get("/sheet").text
    assert "新增建筑/硬化" in sheet and ">construction<" not in sheet


def test_photos_imagery_and_zero_reports_respect_zones(world: dict) -> None:
    app, codes, url, tmp = world["client"].app, world["codes"], world["url"], world["tmp"]
    code = codes["ZB"][1]
    photo = tmp / "site.png"
    photo.write_bytes(PNG)
    with Ledger.open(url) as led:
        led.attach(code, photo, by="bea")
        aid = led.get_lead(code)["attachments"][0]["id"]
    bea, pat = login(app, "bea"), login(app, "pat")
    assert bea.get(f"/leads/{code}/attachments/{aid}").content == PNG
    assert f"/leads/{code}/attachments/{aid}" in bea.get(f"/leads/{code}").text
    assert pat.get(f"/leads/{code}/attachments/{aid}").status_code == 404
    assert pat.get(f"/leads/{codes['ZA'][0]}/attachments/{aid}").status_code == 404  # not its lead
    assert TestClient(app).get(f"/leads/{code}/attachments/{aid}", follow_redirects=False).status_code == 303
    assert bea.get("/imagery.json").json() == []  # the world's run folder has a chip, no overlay
    assert bea.get("/imagery/../before.png").status_code == 404
    form = {"zone": "ZA", "personnel": "pat 、 pat2", "started_at": "2024-05-02T09:00",
            "location": "北段", "csrf_token": pat.cookies.get(auth.CSRF_COOKIE)}
    assert pat.post("/sheet/zero-report", data={**form, "csrf_token": "x"}).status_code == 403
    assert pat.post("/sheet/zero-report", data={**form, "zone": "ZB"}).status_code == 404
    ana = login(app, "ana")
    assert ana.post("/sheet/zero-report", data={**form, "csrf_token": ana.cookies.get(auth.CSRF_COOKIE)}
                    ).status_code == 403
    one = pat.post("/sheet/zero-report", data={**form, "personnel": "pat"}, follow_redirects=False)
    # two people patrol: the sheet again, one sentence, what was typed kept
    assert one.status_code == 422 and "巡查人员至少填写两人" in one.text and "北段" in one.text
    assert "{" not in one.text.split('id="error">')[1].split("<")[0]
    ok = pat.post("/sheet/zero-report", data=form, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].endswith("saved=1")
    from pipeline.web.field import patrols_on

    with Ledger.open(url) as led:
        done = patrols_on(led, "ZA", datetime(2024, 5, 2).date())
        assert patrols_on(led, "ZB", datetime(2024, 5, 2).date()) == []
    assert len(done) == 1 and done[0]["zero_report"] and done[0]["personnel"] == ["pat", "pat2"]


def test_openapi_and_docs_page_from_bundled_assets(tmp_path) -> None:
    """Provincial systems read /openapi.json; /docs is Swagger UI from the package, no CDN."""
    import re

    from fastapi.testclient import TestClient

    from pipeline.web.app import create_app

    client = TestClient(create_app(f"sqlite:///{tmp_path / 'l.sqlite'}", secret="s" * 32))
    spec = client.get("/openapi.json").json()
    assert {"/api/token", "/api/leads", "/api/leads/{code}"} <= set(spec["paths"])
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/static/") for a in assets)  # nothing from outside
    assert "<script>" not in page.text  # no inline script
    for asset in assets:
        body = client.get(asset)
        assert body.status_code == 200 and len(body.content) > (100_000 if "vendor" in asset else 100)
    assert client.get("/redoc").status_code == 404
