"""The assessment indicators on small ledgers where every numerator and denominator is known."""
from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point

from pipeline.assessment.data import Area
from pipeline.assessment.period import half, month, quarter, span, year
from pipeline.assessment.plans import PatrolPlan, parse_plan
from pipeline.classes import m2_to_mu
from pipeline.errors import ConfigError
from pipeline.ledger import Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.testing import ORIGIN, UTM_CRS, leads_gdf, run_record, square

TODAY = date(2027, 1, 10)
Y2026 = span(date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        yield led


def to_lonlat(geom):
    return gpd.GeoSeries([geom], crs=UTM_CRS).to_crs(4326).iloc[0]


def utm_point(col: float, row: float) -> Point:
    return to_lonlat(Point(ORIGIN[0] + col * 10.0, ORIGIN[1] + row * 10.0))


def imagery(led: Ledger, n: int, seen: date, size: float, col: float, **kw) -> str:
    frame = leads_gdf([square(col, 0, size)], **kw)
    return led.record_run(run_record(n=n, after=seen), frame, None).created[0]


def verify(led: Ledger, code: str, outcome: str, on: str, **extra) -> None:
    led.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    led.transition(code, "verified", "chen", {"outcome": outcome, "personnel": "zhang,li", "on": on, **extra},
                   today=TODAY)


def build_2026(led: Ledger) -> dict[str, str]:
    """Six leads with work in 2026 (one seen on 2002 imagery), one lead outside it."""
    pid = led.add_patrol(started_at=datetime(2026, 3, 2, 1, tzinfo=UTC), personnel="zhang,li",
                         by="zhang", situation="digging on farmland")
    a = imagery(led, 0, date(2002, 6, 1), 50.0, 0)         # 2500 m2 basic farmland, old imagery
    verify(led, a, "illegal", "2026-03-02", patrol_id=pid)   # confirmed on a patrol
    led.transition(a, "stopped", "c", {"stop_measure": "halt", "notice_no": "N-A", "on": "2026-03-03"}, today=TODAY)
    led.transition(a, "reported", "c", {"on": "2026-03-03"}, today=TODAY)
    led.transition(a, "filed", "c", {"case_no": "C-A", "on": "2026-03-10"}, today=TODAY)
    led.transition(a, "rectified", "c", {"on": "2026-03-30"}, today=TODAY)
    led.transition(a, "closed", "c", {"on": "2026-04-01"}, today=TODAY)
    b = imagery(led, 1, date(2026, 5, 1), 30.0, 300)       # 900 m2 farmland, not on a patrol, not stopped
    verify(led, b, "illegal", "2026-05-06")
    c = led.report_lead(region="nanjing", source="patrol", geometry=utm_point(600, 0), by="li",
                        reported_on=date(2026, 5, 5)).code
    verify(led, c, "illegal", "2026-05-06")
    led.transition(c, "stopped", "c", {"stop_measure": "halt", "notice_no": "N-C", "on": "2026-05-07"}, today=TODAY)
    d = led.report_lead(region="nanjing", source="hotline", geometry=utm_point(900, 0), by="li",
                        reported_on=date(2026, 5, 30)).code
    verify(led, d, "illegal", "2026-06-01")
    led.transition(d, "stopped", "c", {"stop_measure": "halt", "notice_no": "N-D", "on": "2026-06-02"}, today=TODAY)
    e = imagery(led, 2, date(2026, 5, 1), 40.0, 1200)      # legal construction on 1600 m2 farmland
    verify(led, e, "legal", "2026-06-01")
    f = imagery(led, 3, date(2025, 12, 1), 30.0, 1500)     # a 2025 case, stopped in 2026
    verify(led, f, "illegal", "2025-12-30")
    led.transition(f, "stopped", "c", {"stop_measure": "halt", "notice_no": "N-F", "on": "2026-01-05"}, today=TODAY)
    g = imagery(led, 4, date(2025, 6, 1), 30.0, 1800)      # nothing happened to it in 2026
    verify(led, g, "illegal", "2025-07-01")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}


def test_indicators_by_hand(ledger: Ledger) -> None:
    codes = build_2026(ledger)
    a = ledger.assess(Y2026, today=TODAY)
    got = {i.key: i for i in a.indicators}
    # cases of 2026 (verified illegal in 2026): a, b, c, d
    assert (got["patrol_share"].numerator, got["patrol_share"].denominator) == (2, 4)  # a (imagery on patrol), c
    assert got["patrol_share"].value == 0.5 and got["patrol_share"].ok is False
    assert (got["stop_rate"].numerator, got["stop_rate"].denominator) == (3, 4)
    assert (got["filing_rate"].numerator, got["filing_rate"].denominator) == (1, 4)
    assert (got["closure_rate"].numerator, got["closure_rate"].denominator) == (1, 1)
    red = got["farmland_red_line"]
    assert red.numerator == pytest.approx(m2_to_mu(2500 + 900))
    assert red.denominator == pytest.approx(m2_to_mu(2500 + 900 + 1600))
    assert red.value == pytest.approx(3400 / 5000) and red.ok is False and red.threshold == 0.15
    for key in ("performance_rate", "investigation_rate", "rectification_rate"):
        assert got[key].value is None and "batch" in got[key].reason
    assert a.counts["leads"] == 6 and a.counts["new"] == 4 and a.counts["illegal"] == 4
    assert a.counts["stopped"] == 4 and a.counts["filed"] == 1 and a.counts["closed"] == 1
    # the 2002 imagery lead verified in 2026 counts in 2026, not in 2002
    s = ledger.stats(date(2026, 1, 1), date(2026, 12, 31), today=TODAY)
    assert s.leads == 6 and s.share_patrol == 0.5 and s.stop_rate == 0.75 and s.filing_rate == 0.25
    assert s.illegal_farmland_share == pytest.approx(0.68) and s.farmland_taken_mu == pytest.approx(m2_to_mu(5000))
    assert ledger.stats(date(2002, 1, 1), date(2002, 12, 31), today=TODAY).leads == 1
    assert ledger.stats(date(2002, 1, 1), date(2002, 12, 31), today=TODAY).illegal == 0
    # as of mid-March only a's stop counts, and b..e have not happened yet
    march = ledger.assess(span(date(2026, 1, 1), date(2026, 3, 5)), today=TODAY)
    assert (march.indicator("stop_rate").numerator, march.indicator("stop_rate").denominator) == (1, 1)
    assert march.indicator("filing_rate").value == 0.0
    assert march.indicator("closure_rate").value is None and march.indicator("closure_rate").reason
    assert codes


def test_no_data_is_null_with_a_reason(ledger: Ledger) -> None:
    a = ledger.assess(Y2026, today=TODAY)
    for i in a.indicators:
        assert i.value is None and i.reason and i.ok is None, i.key


def test_approved_construction_counts_in_the_red_line_denominator(ledger: Ledger) -> None:
    from pipeline.assessment.period import china_today

    today = china_today()
    seen = today - timedelta(days=3)
    frame = leads_gdf([square(0, 0, 50.0)])
    approved = leads_gdf([square(300, 0, 60.0)], approvals=[{"approval_no": "P-1", "area_m2": 3600.0}],
                         approved_share=1.0, unapproved_area_m2=0.0)
    code = ledger.record_run(run_record(n=0, after=seen), frame, approved).created[0]
    verify_today(ledger, code, today)
    red = ledger.assess(span(seen, today), today=today).indicator("farmland_red_line")
    assert red.value == pytest.approx(2500 / (2500 + 3600))


def verify_today(led: Ledger, code: str, today: date) -> None:
    led.transition(code, "dispatched", "c", {"assignee": "w"}, today=today)
    led.transition(code, "verified", "c", {"outcome": "illegal", "personnel": "a,b"}, today=today)


def zone(led: Ledger, code: str, level: int, col: float, size_m: float, unit: str = "unit-1") -> None:
    led.add_patrol_zone(code=code, geometry=to_lonlat(square(col, 0, size_m)), level=level,
                        persons="wang", by="admin", unit=unit, region="nanjing")


def patrol(led: Ledger, zone_code: str, day: date, route=None, found: bool = False) -> None:
    led.add_patrol(started_at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=timezone(timedelta(hours=8))),
                   personnel="zhang,li", by="zhang", zone_code=zone_code, route=route,
                   situation="new shed" if found else None)


def test_patrol_frequency_shortfall_and_key_periods(ledger: Ledger) -> None:
    zone(ledger, "Z1", 1, 0, 1000.0)
    zone(ledger, "Z3", 3, 500, 1000.0, unit="unit-2")
    for day in (1, 8, 15, 22, 29):  # five patrols, one a zero report, late evening China time
        patrol(ledger, "Z1", date(2026, 7, day), found=day != 29)
    for day in (3, 20):
        patrol(ledger, "Z3", date(2026, 7, day))
    patrol(ledger, "Z3", date(2026, 8, 1))  # China day 08-01 (UTC 07-31 15:30): not July
    a = ledger.assess(month("2026-07"), today=TODAY)
    comp = a.indicator("patrol_frequency_compliance")
    rows = {r["code"]: r for r in comp.details}
    assert rows["Z1"]["required"] == 9 and rows["Z1"]["patrols"] == 5 and rows["Z1"]["shortfall"] == 4
    assert rows["Z3"]["required"] == 2 and rows["Z3"]["patrols"] == 2 and rows["Z3"]["shortfall"] == 0
    assert rows["Z1"]["zero_reports"] == 1
    assert (comp.numerator, comp.denominator, comp.ok) == (1, 2, False)
    assert a.counts["patrols"] == 7 and a.counts["zero_reports"] == 3
    # spring farming (March) doubles the minimum: level 3 needs 4
    assert PatrolPlan().required(3, date(2026, 3, 1), date(2026, 3, 31)) == 4
    assert PatrolPlan().required(1, date(2026, 7, 6), date(2026, 7, 12)) == 2
    # one unit only
    only = ledger.assess(month("2026-07"), Area(unit="unit-2"), today=TODAY)
    assert [r["code"] for r in only.indicator("patrol_frequency_compliance").details] == ["Z3"]
    plan = parse_plan({"levels": {3: {"per": "month", "times": 1}}, "key_periods": []})
    assert plan.required(3, date(2026, 3, 1), date(2026, 3, 31)) == 1
    with pytest.raises(ConfigError, match="factor below 1"):
        parse_plan({"key_periods": [{"from": "01-01", "to": "01-31", "factor": 0.5}]})


def test_patrol_coverage_within_distance(ledger: Ledger) -> None:
    zone(ledger, "Z1", 1, 0, 1000.0)
    x0, y0 = ORIGIN
    route = to_lonlat(LineString([(x0, y0), (x0, y0 + 1000.0)]))  # along the zone's west edge
    patrol(ledger, "Z1", date(2026, 7, 2), route=route)
    cov = ledger.assess(month("2026-07"), today=TODAY, coverage_m=100.0).indicator("patrol_coverage")
    assert cov.value == pytest.approx(0.1, rel=2e-3)
    assert ledger.assess(month("2026-06"), today=TODAY).indicator("patrol_coverage").value == 0.0


def test_periods_and_due_dates() -> None:
    assert (month("2026-02").start, month("2026-02").end, month("2026-02").due) == (
        date(2026, 2, 1), date(2026, 2, 28), date(2026, 3, 20))
    assert month("2026-12").due == date(2027, 1, 20)
    assert (quarter("2026Q2").start, quarter("2026Q2").end, quarter("2026Q2").due) == (
        date(2026, 4, 1), date(2026, 6, 30), date(2026, 7, 20))
    assert (half("2026H2").start, half("2026H2").end) == (date(2026, 7, 1), date(2026, 12, 31))
    assert year(2026).due == date(2026, 12, 20)
    assert [m.label for m in quarter("2026Q1").months()] == ["2026-01", "2026-02", "2026-03"]
    for bad, fn in (("2026-13", month), ("2026Q5", quarter), ("2026H3", half)):
        with pytest.raises(ConfigError):
            fn(bad)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
    rc = run_app(app)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_assess_cli_json_equals_ledger_stats(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "")
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        build_2026(led)
    out = tmp_path / "assess.json"
    period = ["--from", "2026-01-01", "--to", "2026-12-31", "--today", "2027-01-10", "--ledger", ledger_url]
    rc, text, err = cli(monkeypatch, capsys, "assess", *period, "--region", "nanjing", "--json", str(out))
    assert rc == 0, err
    assert "动态巡查发现率" in text and "50.0%" in text
    doc = json.loads(out.read_text(encoding="utf-8"))
    ind = {i["key"]: i for i in doc["indicators"]}
    assert set(ind["patrol_share"]) >= {"key", "name_zh", "value", "threshold", "ok", "numerator", "denominator"}
    rc, text, err = cli(monkeypatch, capsys, "ledger", "stats", *period, "--region", "nanjing", "--json")
    assert rc == 0, err
    stats = json.loads(text)
    assert stats["share_patrol"] == ind["patrol_share"]["value"]
    assert stats["stop_rate"] == ind["stop_rate"]["value"] and stats["filing_rate"] == ind["filing_rate"]["value"]
    assert stats["illegal_farmland_share"] == ind["farmland_red_line"]["value"]
    assert stats["leads"] == doc["counts"]["leads"] == 6
    rc, _, err = cli(monkeypatch, capsys, "assess", "--from", "2026-02-30", "--to", "2026-03-01",
                     "--ledger", ledger_url)
    assert rc == 2 and "--from" in err and "\n" not in err.strip()


def test_inspection_batch_rates(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    from tests.review_fixtures import batch_rows, patch_frame

    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "")
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        codes = [imagery(led, i, date(2026, 3, 1), 60.0, i * 300) for i in range(3)]
        for code in codes:
            verify(led, code, "illegal", "2026-03-10")
        for code, notice in ((codes[0], "N-0"), (codes[1], "N-1")):
            led.transition(code, "stopped", "c", {"stop_measure": "halt", "notice_no": notice, "on": "2026-03-11"},
                           today=TODAY)
        for to, fields in (("reported", {}), ("filed", {"case_no": "C-0"}), ("rectified", {}), ("closed", {})):
            led.transition(codes[0], to, "c", fields | {"on": "2026-03-20"}, today=TODAY)
    path = tmp_path / "batch.shp"
    patch_frame(batch_rows(3), [square(i * 300 + 1, 1, 50.0) for i in range(3)]).to_file(
        path, driver="ESRI Shapefile", engine="pyogrio", encoding="GBK")
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(path), "--batch", "2026-1",
                     "--issued-on", "2026-04-01", "--ledger", ledger_url)
    assert rc == 0, err
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        a = led.assess(Y2026, today=TODAY)
        got = {k: a.indicator(k) for k in ("performance_rate", "investigation_rate", "rectification_rate")}
        assert (got["performance_rate"].numerator, got["performance_rate"].denominator) == (2, 3)
        assert (got["investigation_rate"].numerator, got["investigation_rate"].denominator) == (1, 3)
        assert (got["rectification_rate"].numerator, got["rectification_rate"].denominator) == (1, 3)
        assert got["performance_rate"].ok is False and got["performance_rate"].details[0]["batch"] == "2026-1"
        # a batch issued outside the period does not count
        assert led.assess(month("2026-03"), today=TODAY).indicator("performance_rate").value is None
