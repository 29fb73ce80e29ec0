"""Lifecycle, event chain, responsibility zones, merged reports, deadlines and statistics."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point, box
from sqlalchemy import func, select, text

from pipeline.errors import ConfigError, InputError
from pipeline.ledger import Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.lifecycle import TransitionError
from pipeline.ledger.migrate import head_revision
from pipeline.ledger.schema import Event, Lead
from pipeline.ledger.testing import (
    leads_gdf,
    run_record,
    square,
)

# Mon 2024-06-03 .. ; 2024-06-10 is the Dragon Boat Festival holiday (official calendar)
TODAY = date(2024, 6, 20)


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        yield led


def one_lead(led: Ledger, n: int = 0, where=(0, 0)) -> str:
    return led.record_run(run_record(n=n, after=date(2024, 6, 1)), leads_gdf([square(*where, 50.0)]),
                          None).created[0]


def rows(led: Ledger, table: str) -> int:
    return led.read(lambda c: c.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar())


def test_illegal_lead_through_every_state(ledger: Ledger) -> None:
    code = one_lead(ledger)
    steps = [
        ("dispatched", {"assignee": "wang"}),
        ("verified", {"outcome": "illegal", "personnel": "zhang,li", "on": "2024-06-06"}),
        ("stopped", {"stop_measure": "work halted, machines removed", "notice_no": "JN-2024-017"}),
        ("reported", {"report_no": "R-9", "on": "2024-06-07"}),
        ("filed", {"case_no": "C-2024-3"}),
        ("rectified", {}),
        ("closed", {}),
    ]
    for to, fields in steps:
        ledger.transition(code, to, by="chen", fields=fields, note=f"to {to}", today=TODAY)
    lead = ledger.get_lead(code)
    assert lead["status"] == "closed" and lead["outcome"] == "illegal"
    assert lead["personnel"] == ["zhang", "li"] and lead["notice_no"] == "JN-2024-017"
    # verified Thu 06-06: 2 working days -> Fri 06-07, Tue 06-11 (Mon 06-10 is a holiday)
    assert lead["report_due"] == date(2024, 6, 11)
    assert [len(lead[k]) for k in ("verifications", "stop_notices", "reports", "cases")] == [1, 1, 1, 1]
    assert lead["reports"][0]["due_on"] == date(2024, 6, 11)
    hist = ledger.history(code)
    assert [h["action"] for h in hist] == ["created"] + ["transition"] * 7
    assert hist[2]["before"]["status"] == "dispatched" and hist[2]["after"]["status"] == "verified"
    assert hist[2]["actor"] == "chen" and hist[2]["note"] == "to verified"
    assert ledger.verify().ok


@pytest.mark.parametrize("outcome", ["legal", "false_positive", "not_found"])
def test_other_outcomes_close_from_verified(ledger: Ledger, outcome: str) -> None:
    code = one_lead(ledger)
    ledger.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    ledger.transition(code, "verified", "chen", {"outcome": outcome, "personnel": ["a", "b"]}, today=TODAY)
    with pytest.raises(TransitionError, match="only a lead verified illegal"):
        ledger.transition(code, "stopped", "chen", {"stop_measure": "x", "notice_no": "N1"}, today=TODAY)
    ledger.transition(code, "closed", "chen", today=TODAY)
    assert ledger.get_lead(code)["status"] == "closed"
    assert ledger.overdue(today=date(2024, 12, 1)) == []


@pytest.mark.parametrize("to, fields, needle", [
    ("verified", {"outcome": "illegal", "personnel": "a,b"}, "cannot go from new to verified"),
    ("dispatched", {}, "needs an assignee"),
    ("dispatched", {"assignee": "w", "outcome": "legal"}, "do not belong"),
    ("closed", {}, "cannot go from new to closed"),
    ("flying", {}, "unknown state"),
])
def test_refused_steps_change_nothing(ledger: Ledger, to: str, fields: dict, needle: str) -> None:
    code = one_lead(ledger)
    events = rows(ledger, "events")
    with pytest.raises(TransitionError, match=needle) as info:
        ledger.transition(code, to, "chen", fields, today=TODAY)
    assert str(info.value).startswith(code) and info.value.exit_code == 2
    assert ledger.get_lead(code)["status"] == "new" and rows(ledger, "events") == events


def test_verification_needs_outcome_and_two_people(ledger: Ledger) -> None:
    code = one_lead(ledger)
    ledger.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    with pytest.raises(TransitionError, match="at least two personnel"):
        ledger.transition(code, "verified", "chen", {"outcome": "illegal", "personnel": "zhang, zhang"}, today=TODAY)
    with pytest.raises(TransitionError, match="needs an outcome"):
        ledger.transition(code, "verified", "chen", {"outcome": "maybe", "personnel": "a,b"}, today=TODAY)
    with pytest.raises(TransitionError, match="in the future"):
        ledger.transition(code, "verified", "chen", {"outcome": "legal", "personnel": "a,b", "on": "2030-01-01"}, today=TODAY)
    assert rows(ledger, "verifications") == 0 and ledger.get_lead(code)["status"] == "dispatched"


def test_notice_number_used_once(ledger: Ledger) -> None:
    codes = [one_lead(ledger, n=0, where=(0, 0)), one_lead(ledger, n=1, where=(500, 500))]
    for code in codes:
        ledger.transition(code, "dispatched", "chen", {"assignee": "w"}, today=TODAY)
        ledger.transition(code, "verified", "chen", {"outcome": "illegal", "personnel": "a,b"}, today=TODAY)
    ledger.transition(codes[0], "stopped", "chen", {"stop_measure": "halt", "notice_no": "N-1"}, today=TODAY)
    with pytest.raises(TransitionError, match="already used"):
        ledger.transition(codes[1], "stopped", "chen", {"stop_measure": "halt", "notice_no": "N-1"}, today=TODAY)
    assert ledger.get_lead(codes[1])["status"] == "verified"


def test_verify_detects_any_edit_behind_the_ledgers_back(ledger: Ledger) -> None:
    code = one_lead(ledger)
    ledger.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    ledger.transition(code, "verified", "chen", {"outcome": "legal", "personnel": "a,b"}, today=TODAY)
    report = ledger.verify()
    assert report.ok and report.events == 4
    third = ledger.read(lambda c: c.execute(select(Event.id).order_by(Event.id).limit(1).offset(2)).scalar())
    ledger.write(lambda c: c.execute(text("UPDATE events SET actor = 'mallory' WHERE id = :i"), {"i": third}))
    bad = ledger.verify()
    assert not bad.ok and bad.broken_id == third and "edited" in bad.problem
    ledger.write(lambda c: c.execute(text("UPDATE events SET actor = 'chen' WHERE id = :i"), {"i": third}))
    assert ledger.verify().ok
    ledger.write(lambda c: c.execute(text("DELETE FROM events WHERE id = :i"), {"i": third}))
    bad = ledger.verify()
    assert bad.broken_id == third + 1 and "removed" in bad.problem


def test_new_leads_go_to_the_zone_persons(ledger: Ledger) -> None:
    zone = leads_gdf([square(-10, -10, 400.0)]).to_crs(4326).geometry.iloc[0]
    ledger.add_patrol_zone(code="JN-01", geometry=zone, level=1, persons="wang,zhao", by="admin",
                           unit="Jiangning bureau", region="nanjing")
    inside, outside = ledger.record_run(run_record(), leads_gdf([square(0, 0), square(900, 900)]), None).created
    assert ledger.get_lead(inside)["assignee"] == "wang,zhao"
    assert ledger.get_lead(inside)["patrol_zone"] == "JN-01"
    assert ledger.get_lead(outside)["assignee"] is None
    assert list(ledger.leads_frame(zone="JN-01")["code"]) == [inside]
    # dispatch without naming anyone takes the zone's persons
    ledger.transition(inside, "dispatched", "chen", today=TODAY)
    with pytest.raises(InputError, match="exists"):
        ledger.add_patrol_zone(code="JN-01", geometry=zone, level=1, persons="x", by="admin")


def test_hotline_report_merges_into_satellite_lead(ledger: Ledger) -> None:
    code = one_lead(ledger)
    lead = ledger.get_lead(code)
    spot = Point(lead["centroid_lon"], lead["centroid_lat"])
    out = ledger.report_lead(region="nanjing", source="hotline", geometry=spot, by="operator",
                             reported_on=date(2024, 6, 5), description="digging at night")
    assert out.merged and out.code == code
    lead = ledger.get_lead(code)
    assert lead["seen_count"] == 2 and [o["source"] for o in lead["observations"]] == ["imagery", "hotline"]
    far = Point(lead["centroid_lon"] + 0.05, lead["centroid_lat"])
    other = ledger.report_lead(region="nanjing", source="hotline", geometry=far, by="operator",
                               reported_on=date(2024, 6, 5))
    assert not other.merged and other.code == "NANJING-2024-0002"
    # imagery that later sees the hotline spot extends that lead rather than opening a twin
    shown = ledger.get_lead(other.code)["geometry"]
    patch = leads_gdf([box(*shown.buffer(-0.0001).bounds)], crs="EPSG:4326").to_crs("EPSG:32650")
    seen = ledger.record_run(run_record(n=7, after=date(2024, 7, 1)), patch, None)
    assert seen.updated == [other.code] and seen.created == []
    with pytest.raises(InputError, match="unknown lead source"):
        ledger.report_lead(region="nanjing", source="rumour", geometry=far, by="x")
    # the hotline call that merged is in the clue register too (reply due to the caller)
    assert [h["action"] for h in ledger.history(code)] == ["created", "merged_report", "clue_registered"]
    assert [c["code"] for c in ledger.clues()] == [other.code, code]


def test_patrols_and_zero_reports(ledger: Ledger) -> None:
    code = one_lead(ledger)
    start = datetime(2024, 6, 5, 9, tzinfo=UTC)
    route = LineString([(118.70, 31.98), (118.71, 31.99)])
    ledger.add_patrol(started_at=start, personnel="zhang,li", by="zhang", route=route, lead_codes=[code],
                      situation="soil taking", stop_measures="ordered to stop", effect="stopped")
    ledger.add_patrol(started_at=start, personnel=["zhang", "li"], by="zhang")  # zero report
    with pytest.raises(InputError, match="two personnel"):
        ledger.add_patrol(started_at=start, personnel="zhang", by="zhang")
    with pytest.raises(InputError, match="must be a line"):
        ledger.add_patrol(started_at=start, personnel="a,b", by="a", route=Point(1, 1))
    with pytest.raises(InputError, match="no such lead"):
        ledger.add_patrol(started_at=start, personnel="a,b", by="a", lead_codes=["X-1"])
    s = ledger.stats(date(2024, 6, 1), date(2024, 6, 30), today=TODAY)
    assert s.patrols == 2 and s.zero_reports == 1


def test_attachment_hash(ledger: Ledger, tmp_path: Path) -> None:
    import hashlib

    code = one_lead(ledger)
    photo = tmp_path / "site.jpg"
    photo.write_bytes(b"\xff\xd8 not really a jpeg")
    digest = ledger.attach(code, photo, by="li", lon=118.7, lat=31.98,
                           taken_at=datetime(2024, 6, 5, 10, tzinfo=UTC))
    assert digest == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert ledger.get_lead(code)["attachments"][0]["sha256"] == digest


def test_overdue_report_and_statistics(ledger: Ledger) -> None:
    late, ok, legal = (one_lead(ledger, n=i, where=(i * 300, 0)) for i in range(3))
    for code, outcome in ((late, "illegal"), (ok, "illegal"), (legal, "legal")):
        ledger.transition(code, "dispatched", "c", {"assignee": "w"}, today=TODAY)
        ledger.transition(code, "verified", "c", {"outcome": outcome, "personnel": "a,b", "on": "2024-06-06"},
                          today=TODAY)
    ledger.transition(ok, "stopped", "c", {"stop_measure": "halt", "notice_no": "N-7", "on": "2024-06-07"},
                      today=TODAY)
    ledger.transition(ok, "reported", "c", {"on": "2024-06-07"}, today=TODAY)
    assert ledger.overdue(today=date(2024, 6, 11)) == []  # due Tue 06-11: not late on the day
    over = ledger.overdue(today=date(2024, 6, 12))
    assert [o["code"] for o in over] == [late] and over[0]["working_days_late"] == 1
    ledger.transition(legal, "closed", "c", today=TODAY)
    s = ledger.stats(date(2024, 6, 1), date(2024, 6, 30), today=date(2024, 6, 12))
    assert s.leads == 3 and s.illegal == 2 and s.by_source == {"imagery": 3}
    assert s.stop_rate == pytest.approx(0.5) and s.filing_rate == 0.0
    # closure rate is over the cases filed in the period: none, so no value (not 0)
    assert s.closure_rate is None and s.share_imagery == 1.0 and s.overdue == 1
    assert s.illegal_basic_farmland_m2 == pytest.approx(5000.0)
    assert s.illegal_basic_farmland_mu == pytest.approx(5000.0 / 666.67)
    assert s.by_status == {"verified": 1, "reported": 1, "closed": 1}
    assert ledger.stats(date(2025, 1, 1), date(2025, 12, 31)).leads == 0
    assert ledger.stats(date(2024, 6, 1), date(2024, 6, 30), region="elsewhere").leads == 0


def test_calendar_working_days_and_holiday_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(date(2024, 10, 1)) and cal.is_workday(date(2024, 9, 29))  # 调休 Sunday
    assert cal.add_working_days(date(2024, 9, 30), 2) == date(2024, 10, 9)
    assert WorkCalendar(official=False).add_working_days(date(2024, 9, 30), 2) == date(2024, 10, 2)
    f = tmp_path / "hol.txt"
    f.write_text("# local days\n2024-06-12\n2024-06-15 workday\n")
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", str(f))
    local = WorkCalendar.from_env()
    assert not local.is_workday(date(2024, 6, 12)) and local.is_workday(date(2024, 6, 15))
    assert local.add_working_days(date(2024, 6, 11), 2) == date(2024, 6, 14)
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "2024-06-13,2024-06-14")
    assert not WorkCalendar.from_env().is_workday(date(2024, 6, 14))
    f.write_text("13/06/2024\n")
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", str(f))
    with pytest.raises(ConfigError, match="line 1"):
        WorkCalendar.from_env()


def test_ledger_at_revision_0001_upgrades_keeping_its_leads(tmp_path: Path) -> None:
    from alembic import command

    from pipeline.ledger import engine as eng
    from pipeline.ledger.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = eng.make_engine(eng.parse_url(url))
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text(
            "INSERT INTO leads (code, region, status, source, geom_wkb, minx, miny, maxx, maxy, area_m2,"
            " area_mu, first_seen, last_seen, seen_count, centroid_lon, centroid_lat, zones, approvals,"
            " approved_share, created_at, updated_at) VALUES ('OLD-2023-0001', 'old', 'new', 'imagery',"
            " X'00', 0, 0, 1, 1, 1.0, 0.0015, '2023-01-01', '2023-01-01', 1, 0.5, 0.5, '[]', '[]', 0,"
            " '2023-01-01 00:00:00', '2023-01-01 00:00:00')"))
    engine.dispose()
    with Ledger.open(url) as led:
        n = led.read(lambda c: c.execute(select(func.count()).select_from(Lead)).scalar())
        assert n == 1
        assert led.read(lambda c: c.execute(text("SELECT version_num FROM alembic_version")).scalar()) == head_revision()


def test_legality_precheck_explains_approvals(ledger: Ledger) -> None:
    approvals = [{"approval_no": "NJ-2023-88", "approved_use": "road", "approved_on": date(2023, 3, 1),
                  "area_m2": 1500.0, "share": 0.6}]
    frame = leads_gdf([square(0, 0, 50.0)], approvals=approvals, approved_share=0.6, unapproved_area_m2=1000.0)
    code = ledger.record_run(run_record(), frame, None).created[0]
    check = ledger.get_lead(code)["legality"]
    assert check["approvals"][0]["approval_no"] == "NJ-2023-88"
    assert check["min_area_m2"] == 400 and check["remainder_exceeds_mmu"] is True
    assert "NJ-2023-88 (road, 2023-03-01) covers 60%" in check["explanation"]
    assert "1000 m2 exceeds" in check["explanation"]
    small = leads_gdf([square(500, 0, 50.0)], approvals=approvals, approved_share=0.9, unapproved_area_m2=250.0)
    code2 = ledger.record_run(run_record(n=1), small, None).created[0]
    assert ledger.get_lead(code2)["legality"]["remainder_exceeds_mmu"] is False


def test_patrol_times_are_instants_whatever_the_clock_says(ledger: Ledger) -> None:
    """A patrol entered in China time (UTC+8) in the evening is on that China day: SQLite keeps
    only wall times, so the ledger stores UTC and the sheet converts back (both backends)."""
    from datetime import timedelta

    from pipeline.web.field import CHINA, patrols_on

    zone = leads_gdf([square(-10, -10, 400.0)]).to_crs(4326).geometry.iloc[0]
    ledger.add_patrol_zone(code="JN-02", geometry=zone, level=1, persons="wang,zhao", by="admin")
    day = date(2026, 12, 1)
    for hh, d in ((0, day), (21, day), (23, day - timedelta(days=1)), (8, day + timedelta(days=1))):
        ledger.add_patrol(started_at=datetime(d.year, d.month, d.day, hh, 30, tzinfo=CHINA),
                          personnel="wang,zhao", by="wang", zone_code="JN-02")
    shown = patrols_on(ledger, "JN-02", day)
    assert [p["started_at"].strftime("%Y-%m-%d %H:%M %z") for p in shown] == [
        "2026-12-01 00:30 +0800", "2026-12-01 21:30 +0800"]
