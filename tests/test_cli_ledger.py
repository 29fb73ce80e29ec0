"""`landpatrol ledger ...` end to end: a run's lead taken through every state by the CLI."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline.ledger import Ledger
from pipeline.ledger.engine import parse_url
from pipeline.ledger.testing import (
    drop_ledger_url,
    fresh_ledger_url,
    leads_gdf,
    ledger_kinds,
    run_record,
    square,
)
from pipeline.timeutil import china_today


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
    monkeypatch.setenv("COLUMNS", "200")
    rc = run_app(app)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(params=ledger_kinds())
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = fresh_ledger_url(request.param, tmp_path)
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "")
    today = china_today()
    with Ledger.open(url) as led:
        code = led.record_run(run_record(after=today), leads_gdf([square(0, 0, 50.0)]), None).created[0]
    yield url, code
    drop_ledger_url(url)


def test_lead_through_every_state_by_cli(setup, monkeypatch, capsys) -> None:
    url, code = setup
    run = lambda *a: cli(monkeypatch, capsys, *a, "--ledger", url)  # noqa: E731
    steps = [
        ["--to", "dispatched", "--set", "assignee=wang"],
        ["--to", "verified", "--set", "outcome=illegal", "--set", "personnel=zhang,li", "--note", "on site"],
        ["--to", "stopped", "--set", "stop_measure=machines removed", "--set", "notice_no=JN-17"],
        ["--to", "reported", "--set", "report_no=R-1"],
        ["--to", "filed", "--set", "case_no=C-9"],
        ["--to", "rectified"],
        ["--to", "closed"],
    ]
    # a skipped step is refused with a message and changes nothing
    rc, _, err = run("ledger", "transition", code, "--to", "stopped", "--by", "chen",
                     "--set", "stop_measure=x", "--set", "notice_no=N")
    assert rc == 2 and "cannot go from new to stopped" in err and err.count("\n") == 1
    for step in steps:
        rc, out, err = run("ledger", "transition", code, "--by", "chen", *step)
        assert rc == 0, err
        assert out.strip() == f"{code}: {step[1]}"
    rc, out, _ = run("ledger", "show", code, "--json")
    lead = json.loads(out)
    assert lead["status"] == "closed" and lead["case_no"] == "C-9" and lead["personnel"] == ["zhang", "li"]
    rc, out, _ = run("ledger", "history", code, "--json")
    hist = json.loads(out)
    assert [h["after"].get("status") for h in hist] == ["new"] + [s[1] for s in steps]
    assert hist[2]["note"] == "on site" and hist[2]["actor"] == "chen"
    rc, out, _ = run("ledger", "list", "--status", "closed", "--json")
    assert [r["code"] for r in json.loads(out)] == [code]
    rc, out, _ = run("ledger", "verify")
    assert rc == 0 and "intact" in out
    # edit one event behind the ledger's back: verify fails naming it
    engine = create_engine(parse_url(url))  # a plain connection, not the ledger's API
    with engine.begin() as con:
        con.execute(text("UPDATE events SET after = replace(after, 'C-9', 'C-10') "
                         "WHERE action = 'transition' AND after LIKE '%C-9%'"))
        bad_id = con.execute(text("SELECT id FROM events WHERE after LIKE '%C-10%'")).scalar_one()
    engine.dispose()
    rc, _, err = run("ledger", "verify")
    assert rc == 3 and f"event {bad_id} " in err and "edited" in err


def test_cli_patrols_stats_overdue_zone_report(setup, monkeypatch, capsys, tmp_path) -> None:
    url, code = setup
    run = lambda *a: cli(monkeypatch, capsys, *a, "--ledger", url)  # noqa: E731
    rc, out, err = run("ledger", "patrol", "add", "--personnel", "zhang,li", "--by", "zhang",
                       "--start", "2024-06-05T09:00", "--route", "LINESTRING (118.7 31.98, 118.71 31.99)")
    assert rc == 0 and "zero report" in out, err
    rc, _, err = run("ledger", "patrol", "add", "--personnel", "zhang", "--by", "zhang")
    assert rc == 2 and "two personnel" in err  # bad input, not a ledger failure
    rc, out, err = run("ledger", "zone", "add", "--code", "Z-9", "--level", "1", "--persons", "wu,he",
                       "--geometry", "POLYGON ((100 20, 130 20, 130 40, 100 40, 100 20))", "--by", "admin")
    assert rc == 0, err
    rc, out, err = run("ledger", "report", "--lon", "118.9", "--lat", "32.2", "--region", "nanjing",
                       "--by", "operator", "--description", "truck dumping")
    assert rc == 0 and "new lead" in out, err
    new_code = out.split(":")[0]
    rc, out, _ = run("ledger", "list", "--zone", "Z-9", "--json")
    # the zone took over the open lead already inside it, and holds the new one
    assert [r["code"] for r in json.loads(out)] == sorted([code, new_code])
    assert {r["assignee"] for r in json.loads(out)} == {"wu,he"}
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"123")
    rc, out, _ = run("ledger", "attach", new_code, str(photo), "--by", "wu")
    assert rc == 0 and "sha256=" in out
    today = china_today().isoformat()  # the bureau's day, not the machine's
    rc, out, _ = run("ledger", "stats", "--from", "2000-01-01", "--to", today, "--json")
    stats = json.loads(out)
    assert stats["leads"] == 2 and stats["by_source"] == {"imagery": 1, "hotline": 1}
    assert stats["patrols"] == 1 and stats["zero_reports"] == 1
    rc, _, err = run("ledger", "stats", "--from", "2024-13-01", "--to", today)
    assert rc == 2 and "--from" in err
    rc, out, _ = run("ledger", "overdue", "--json", "--today", "2099-01-01")
    assert rc == 0 and json.loads(out) == []
    rc, _, err = run("ledger", "show", "NOPE-1")
    assert rc == 2 and "no such lead" in err  # bad input, not a ledger failure
    rc, _, err = cli(monkeypatch, capsys, "ledger", "list", "--ledger", "sqlite:////nonexistent-dir/x.sqlite")
    assert rc == 3 and "nonexistent-dir" in err
