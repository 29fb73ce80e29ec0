"""The supervisors' dashboard: who may see it, what it shows, the reports as downloads."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("httpx")
from fastapi.testclient import TestClient

from pipeline.assessment.period import china_today
from pipeline.reporting import pdf
from pipeline.web import auth
from pipeline.web.app import create_app
from pipeline.web.testing import PASSWORD, seed_dashboard

SECRET = "test-secret-of-at-least-thirty-two-bytes"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dash")
    url = f"sqlite:///{tmp / 'ledger.sqlite'}"
    codes = seed_dashboard(url)
    app = create_app(url, secret=SECRET)
    with TestClient(app):
        yield {"app": app, "codes": codes}


def login(app: object, name: str) -> TestClient:
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": name, "password": PASSWORD,
                                    "csrf_token": client.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_patrol_members_do_not_see_the_dashboard(world: dict) -> None:
    pat = login(world["app"], "pat")
    assert pat.get("/dashboard").status_code == 403
    assert pat.get("/dashboard/reports/monthly/2026-01.pdf").status_code == 403
    assert "/dashboard" not in pat.get("/").text
    anon = TestClient(world["app"])
    assert anon.get("/dashboard", follow_redirects=False).headers["location"] == "/login"


def test_supervisor_sees_own_zones_and_analyst_all(world: dict) -> None:
    za, zb = world["codes"]["ZA"][0], world["codes"]["ZB"][0]
    sue = login(world["app"], "sue").get("/dashboard")
    assert sue.status_code == 200 and "动态巡查发现率" in sue.text and "违法占用耕地比例" in sue.text
    assert "巡查频次不足的责任区" in sue.text and "ZA" in sue.text
    # both leads are 7 days past verification with no report: overdue; sue sees only zone A's
    assert za in sue.text and zb not in sue.text
    ana = login(world["app"], "ana").get("/dashboard")
    assert ana.status_code == 200 and za in ana.text and zb in ana.text
    assert 'href="/dashboard"' in ana.text


def test_dashboard_without_a_chinese_font_keeps_its_figures(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without fonts-noto-cjk serves the dashboard (figures, overdue steps) and says
    why the trend chart is missing, instead of failing the page."""
    from pipeline.reporting import charts

    def no_font() -> str:
        raise pdf.FontError("fontconfig", "no Chinese font installed (fc-list :lang=zh is empty)")

    monkeypatch.setattr(charts, "cjk_font", no_font)
    page = login(world["app"], "sue").get("/dashboard")
    assert page.status_code == 200 and "动态巡查发现率" in page.text
    assert "趋势图未绘制" in page.text and "fc-list :lang=zh" in page.text and "<img" not in page.text


@pytest.mark.skipif(not pdf.cjk_families() or shutil.which("pdftotext") is None, reason="needs CJK font, poppler")
def test_report_download(world: dict) -> None:
    sue = login(world["app"], "sue")
    today = china_today()
    r = sue.get(f"/dashboard/reports/monthly/{today:%Y-%m}.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and "attachment" in r.headers["content-disposition"]
    assert sue.get("/dashboard/reports/monthly/2026-13.pdf").status_code == 404
    assert sue.get("/dashboard/reports/weekly/2026-01.pdf").status_code == 404
