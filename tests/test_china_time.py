"""Times, one rule: stored as UTC instants, shown and reasoned about in China time.

The clock is frozen at 2026-12-01T18:52Z, which is 02:52 on 12-02 in China: the bureau's day is
12-02 for the ledger, the web app, deadlines and file names, whatever the machine's zone is.
"""
from __future__ import annotations

import io
import sys
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline import timeutil
from pipeline.ledger import Ledger
from pipeline.ledger.calendar import CalendarWarning, WorkCalendar
from pipeline.ledger.testing import leads_gdf, run_record, square

FROZEN = datetime(2026, 12, 1, 18, 52, tzinfo=UTC)
CHINA_DAY = date(2026, 12, 2)  # a Wednesday


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(timeutil, "clock", lambda: FROZEN)
    monkeypatch.setenv("TZ", "UTC")
    return FROZEN


def test_helpers(frozen: datetime) -> None:
    assert timeutil.china_today() == CHINA_DAY and timeutil.china_now().hour == 2
    assert timeutil.to_china("2026-12-01T18:52:00+00:00").date() == CHINA_DAY
    assert timeutil.to_china(datetime(2026, 12, 1, 18, 52)).strftime("%H:%M") == "02:52"  # naive = UTC
    assert timeutil.from_china(datetime(2026, 12, 2, 2, 52)) == FROZEN                  # typed = China
    assert timeutil.china_text("2026-12-01T18:52:00.000001+00:00") == "2026-12-02 02:52"
    start, end = timeutil.china_day_bounds(CHINA_DAY)
    assert start == datetime(2026, 12, 1, 16, 0, tzinfo=UTC) and (end - start).days == 1


def test_steps_are_dated_and_due_by_the_china_day(ledger_url: str, frozen: datetime) -> None:
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        code = led.record_run(run_record(after=date(2026, 11, 20)), leads_gdf([square(0, 0, 50.0)]),
                              None).created[0]
        led.transition(code, "dispatched", "chen", {"assignee": "wang"})
        led.transition(code, "verified", "wang", {"outcome": "illegal", "personnel": "wang,li"})
        lead = led.get_lead(code)
        assert lead["verified_on"] == CHINA_DAY and lead["status_changed_on"] == CHINA_DAY
        assert lead["report_due"] == date(2026, 12, 4)  # Thu 12-03, Fri 12-04
        assert led.history(code)[-1]["at"].startswith("2026-12-01T18:52")  # stored: the UTC instant
        assert led.overdue() == []
        assert led.verify().ok


def test_cli_history_is_shown_in_china_time(ledger_url: str, frozen: datetime, monkeypatch,
                                            capsys) -> None:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    with Ledger.open(ledger_url) as led:
        code = led.record_run(run_record(after=date(2026, 11, 20)), leads_gdf([square(0, 0, 50.0)]),
                              None).created[0]
    monkeypatch.setattr(sys, "argv", ["landpatrol", "ledger", "history", code, "--ledger", ledger_url])
    monkeypatch.setenv("COLUMNS", "200")
    assert run_app(app) == 0
    out = capsys.readouterr().out
    assert "2026-12-02 02:52:00" in out and "2026-12-01" not in out


def test_cli_times_typed_without_zone_are_china_time(ledger_url: str, monkeypatch, capsys) -> None:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    monkeypatch.setenv("TZ", "UTC")
    with Ledger.open(ledger_url):
        pass
    monkeypatch.setattr(sys, "argv", ["landpatrol", "ledger", "patrol", "add", "--personnel", "a,b",
                                      "--by", "a", "--start", "2026-12-02T02:52", "--ledger", ledger_url])
    assert run_app(app) == 0, capsys.readouterr().err
    with Ledger.open(ledger_url) as led:
        started = led.read(lambda c: c.execute(text("SELECT started_at FROM patrols")).scalar())
    started = datetime.fromisoformat(str(started)) if isinstance(started, str) else started
    assert timeutil.as_utc(started) == FROZEN


def test_web_sheet_verification_and_gpx_follow_the_china_day(tmp_path: Path, frozen: datetime) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from pipeline.web import auth
    from pipeline.web.app import create_app
    from pipeline.web.testing import PASSWORD, seed

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    codes = seed(url)
    with Ledger.open(url) as led:
        led.transition(codes["ZA"][0], "dispatched", "sue", {"assignee": "pat"})
    client = TestClient(create_app(url, secret="s" * 40))
    client.get("/login")
    client.post("/login", data={"username": "pat", "password": PASSWORD,
                                "csrf_token": client.cookies.get(auth.CSRF_COOKIE)})
    sheet = client.get("/sheet")
    assert sheet.status_code == 200 and "2026-12-02" in sheet.text and "2026-12-01" not in sheet.text
    gpx = client.get("/sheet.gpx")
    assert "ZA-2026-12-02.gpx" in gpx.headers["content-disposition"]
    form = {"outcome": "illegal", "personnel": "pat, pat2", "csrf_token": client.cookies.get(auth.CSRF_COOKIE)}
    photo = {"photo": ("p.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64), "image/png")}
    r = client.post(f"/leads/{codes['ZA'][0]}/verify", data=form, files=photo, follow_redirects=False)
    assert r.status_code == 303, r.text
    with Ledger.open(url) as led:
        lead = led.get_lead(codes["ZA"][0])
    assert lead["verified_on"] == CHINA_DAY and lead["report_due"] == date(2026, 12, 4)
    page = client.get(f"/leads/{codes['ZA'][0]}").text
    assert "2026-12-02 02:52" in page  # the history in China time


def test_stats_count_patrols_by_china_day(ledger_url: str) -> None:
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        # 2026-12-01 17:00Z is 12-02 01:00 in China: a patrol of 12-02, not of 12-01
        led.add_patrol(started_at=datetime(2026, 12, 1, 17, 0, tzinfo=UTC), personnel="a,b", by="a")
        assert led.stats(date(2026, 12, 1), date(2026, 12, 1), today=CHINA_DAY).as_dict()["patrols"] == 0
        assert led.stats(date(2026, 12, 2), date(2026, 12, 2), today=CHINA_DAY).as_dict()["patrols"] == 1


# -- working days past chinese-calendar's range ------------------------------------------------

def test_uncovered_year_warns_instead_of_counting_weekends_silently() -> None:
    from pipeline.ledger import calendar

    calendar._WARNED.discard(2027)
    with pytest.warns(CalendarWarning, match="2027"):
        # 2027-09-30 (Thu): the National Day week is not known; weekends only
        assert WorkCalendar().add_working_days(date(2027, 9, 30), 2) == date(2027, 10, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert WorkCalendar().add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)


@pytest.mark.parametrize("name, body", [
    ("h.txt", "2027-10-01\n2027-10-04 holiday\n2027-10-05\n2027-10-06\n2027-10-07\n2027-09-26 workday\n"),
    ("h.csv", ("date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-04,holiday,\n2027-10-05,holiday,\n"
               "2027-10-06,holiday,\n2027-10-07,holiday,\n2027-09-26,workday,调休\n")),
    ("h.yaml", ("holidays:\n  2027-10-01: 国庆节\n  2027-10-04: 国庆节\n  2027-10-05: 国庆节\n"
                "  2027-10-06: 国庆节\n  2027-10-07: 国庆节\nworkdays: [2027-09-26]\n")),
])
def test_holiday_file_covers_a_later_year(tmp_path: Path, monkeypatch, name: str, body: str) -> None:
    from pipeline.ledger import calendar

    calendar._WARNED.discard(2027)
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", str(path))
    cal = WorkCalendar.from_env()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cal.is_workday(date(2027, 9, 26))  # a Sunday worked in lieu
        assert cal.add_working_days(date(2027, 9, 30), 2) == date(2027, 10, 11)


def test_bad_holiday_files_name_the_file(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    bad = tmp_path / "h.yaml"
    bad.write_text("holidays: [2027-13-01]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="h.yaml"):
        WorkCalendar.read(bad)
    bad.write_text("feiertage: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holidays: and workdays:"):
        WorkCalendar.read(bad)
