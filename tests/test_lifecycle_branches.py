"""The enforcement branches: each refuses what the rules forbid and records what they require."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from pipeline.errors import LedgerError
from pipeline.ledger import Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.lifecycle import TransitionError
from pipeline.ledger.schema_enforcement import Clue, EnforcementAction
from pipeline.ledger.testing import leads_gdf, run_record, square

TODAY = date(2026, 6, 30)


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        yield led


def illegal_lead(led: Ledger, n: int = 0) -> str:
    code = led.record_run(run_record(n=n, after=date(2026, 5, 1)), leads_gdf([square(n * 300, 0, 40.0)]),
                          None).created[0]
    led.transition(code, "dispatched", "c", {"assignee": "w"}, today=TODAY)
    led.transition(code, "verified", "c", {"outcome": "illegal", "personnel": "a,b", "on": "2026-06-01"},
                   today=TODAY)
    return code


def actions(led: Ledger, kind: str) -> list[dict]:
    return led.read(lambda c: [dict(r) for r in c.execute(
        select(EnforcementAction).where(EnforcementAction.kind == kind)).mappings()])


def step(led: Ledger, code: str, to: str, **fields) -> dict:
    return led.transition(code, to, "chen", fields, today=TODAY)


def test_correction_deadline_and_follow_up(ledger: Ledger) -> None:
    code = illegal_lead(ledger)
    with pytest.raises(TransitionError, match="before the stop notice"):
        step(ledger, code, "stopped", stop_measure="halt", notice_no="N1", on="2026-06-02",
             correction_deadline="2026-06-01")
    with pytest.raises(TransitionError, match="nothing to follow up"):
        other = illegal_lead(ledger, 1)
        step(ledger, other, "stopped", stop_measure="halt", notice_no="N9", on="2026-06-02")
        step(ledger, other, "followed_up", result="corrected")
    step(ledger, code, "stopped", stop_measure="halt", notice_no="N1", on="2026-06-02",
         correction_deadline="2026-06-15")
    assert ledger.get_lead(code)["correction_deadline"] == date(2026, 6, 15)
    overdue = ledger.overdue_steps(today=date(2026, 6, 20))
    assert {(o["code"], o["step"]) for o in overdue} >= {(code, "follow-up of the correction deadline")}
    with pytest.raises(TransitionError, match="has not passed"):
        step(ledger, code, "followed_up", result="not_corrected", on="2026-06-10")
    with pytest.raises(TransitionError, match="result=corrected or not_corrected"):
        step(ledger, code, "followed_up", result="maybe", on="2026-06-16")
    step(ledger, code, "followed_up", result="not_corrected", on="2026-06-16", situation="still digging")
    lead = ledger.get_lead(code)
    assert lead["status"] == "stopped" and lead["correction_result"] == "not_corrected"
    assert actions(ledger, "followed_up")[0]["details"]["situation"] == "still digging"
    assert not any(o["code"] == code and "correction" in o["step"]
                   for o in ledger.overdue_steps(today=date(2026, 6, 20)))
    assert ledger.verify().ok


def test_stop_ignored_needs_written_reports_and_copies(ledger: Ledger) -> None:
    code = illegal_lead(ledger)
    with pytest.raises(TransitionError, match="only while the lead is stopped"):
        step(ledger, code, "escalated", gov_report_on="2026-06-05")
    step(ledger, code, "stopped", stop_measure="halt", notice_no="N1", on="2026-06-02")
    full = {"gov_report_on": "2026-06-05", "upper_report_on": "2026-06-05", "copied_to": "住建局,供电公司",
                "copied_on": "2026-06-06"}
    for missing in ("gov_report_on", "upper_report_on", "copied_on"):
        with pytest.raises(TransitionError, match=missing):
            step(ledger, code, "escalated", **{k: v for k, v in full.items() if k != missing})
    with pytest.raises(TransitionError, match="抄告"):
        step(ledger, code, "escalated", **(full | {"copied_to": ""}))
    with pytest.raises(TransitionError, match="before the stop notice"):
        step(ledger, code, "escalated", **(full | {"upper_report_on": "2026-06-01"}))
    with pytest.raises(TransitionError, match="in the future"):
        step(ledger, code, "escalated", **(full | {"copied_on": "2026-07-30"}))
    assert actions(ledger, "escalated") == []
    step(ledger, code, "escalated", **full)
    rec = actions(ledger, "escalated")[0]["details"]
    assert rec["copied_to"] == ["住建局", "供电公司"] and rec["gov_report_on"] == "2026-06-05"
    assert ledger.get_lead(code)["escalated_on"] == date(2026, 6, 5)
    with pytest.raises(TransitionError, match="already reported"):
        step(ledger, code, "escalated", **full)
    hist = ledger.history(code)
    assert hist[-1]["action"] == "escalated" and hist[-1]["entity"] == "enforcement_action"
    assert hist[-2]["action"] == "escalated" and hist[-2]["after"] == {"escalated_on": "2026-06-05"}
    assert ledger.verify().ok


def test_minor_act_corrected_on_the_spot(ledger: Ledger) -> None:
    code = illegal_lead(ledger)
    with pytest.raises(TransitionError, match="corrected on the spot"):
        step(ledger, code, "closed")
    with pytest.raises(TransitionError, match="corrected on the spot"):
        step(ledger, code, "closed", disposal="corrected_on_spot")
    step(ledger, code, "closed", disposal="corrected_on_spot", correction="foundation filled back", on="2026-06-01")
    lead = ledger.get_lead(code)
    assert lead["status"] == "closed" and lead["disposal"] == "corrected_on_spot" and lead["case_no"] is None
    assert actions(ledger, "corrected_on_spot")[0]["details"] == {"correction": "foundation filled back"}
    s = ledger.stats(date(2026, 6, 1), date(2026, 6, 30), today=TODAY)
    assert s.stop_rate == 1.0 and s.filing_rate is None  # nothing left to file
    legal = ledger.record_run(run_record(n=5, after=date(2026, 5, 1)), leads_gdf([square(3000, 0)]), None).created[0]
    step(ledger, legal, "dispatched", assignee="w")
    step(ledger, legal, "verified", outcome="legal", personnel="a,b")
    with pytest.raises(TransitionError, match="belong only"):
        step(ledger, legal, "closed", disposal="corrected_on_spot", correction="x")


def test_transfers(ledger: Ledger) -> None:
    code = illegal_lead(ledger)
    with pytest.raises(TransitionError, match="transfer_to"):
        step(ledger, code, "transferred", recipient="公安局", reason="x")
    with pytest.raises(TransitionError, match="only a filed case"):
        step(ledger, code, "transferred", transfer_to="judiciary", recipient="公安局", reason="涉嫌非法占用农用地罪")
    step(ledger, code, "stopped", stop_measure="halt", notice_no="N1", on="2026-06-02")
    step(ledger, code, "reported", on="2026-06-03")
    step(ledger, code, "filed", case_no="C-1", on="2026-06-04")
    step(ledger, code, "transferred", transfer_to="judiciary", recipient="县公安局", reason="涉嫌非法占用农用地罪",
         document_no="移-2026-1", on="2026-06-20")
    lead = ledger.get_lead(code)
    assert lead["status"] == "transferred" and lead["transferred_to"] == "judiciary"
    assert actions(ledger, "transferred")[0]["details"]["document_no"] == "移-2026-1"
    step(ledger, code, "closed", on="2026-06-25")
    other = illegal_lead(ledger, 1)
    step(ledger, other, "transferred", transfer_to="department", recipient="县住建局", reason="城镇规划区内违建")
    assert ledger.stats(date(2026, 6, 1), date(2026, 6, 30), today=TODAY).filing_rate == 1.0


def test_case_not_filed_replies_to_the_reporter(ledger: Ledger) -> None:
    from shapely.geometry import Point

    out = ledger.report_lead(region="nanjing", source="hotline", geometry=Point(118.7, 32.0), by="li",
                             reported_on=date(2026, 6, 1), reporter="王某", contact="138-0000-0000")
    code = out.code
    rows = ledger.clues(code)
    assert rows[0]["reply_due"] == date(2026, 7, 31) and rows[0]["contact"] is None  # hidden by default
    assert ledger.clues(code, with_contact=True)[0]["contact"] == "138-0000-0000"
    registered = next(h for h in ledger.history(code) if h["action"] == "clue_registered")
    assert "138" not in str(registered["after"]) and registered["after"]["reporter_sha256"]
    step(ledger, code, "dispatched", assignee="w")
    step(ledger, code, "verified", outcome="illegal", personnel="a,b", on="2026-06-02")
    with pytest.raises(TransitionError, match="cannot go from verified to case not filed"):
        step(ledger, code, "not_filed", reason="x")
    step(ledger, code, "stopped", stop_measure="halt", notice_no="N1", on="2026-06-02")
    step(ledger, code, "reported", on="2026-06-03")
    with pytest.raises(TransitionError, match="needs the reason"):
        step(ledger, code, "not_filed")
    with pytest.raises(TransitionError, match="reply to them"):
        step(ledger, code, "not_filed", reason="已过追诉时效")
    step(ledger, code, "not_filed", reason="已过追诉时效", reply="经核查，已过追诉时效，不予立案", replied_on="2026-06-10")
    clue = ledger.read(lambda c: dict(c.execute(select(Clue)).mappings().one()))
    assert clue["replied_on"] == date(2026, 6, 10) and clue["reply"].startswith("经核查")
    assert ledger.get_lead(code)["disposal"] == "not_filed"
    step(ledger, code, "closed")
    assert ledger.overdue_steps(today=date(2026, 9, 1)) == []


def test_clue_reply_deadline(ledger: Ledger) -> None:
    from shapely.geometry import Point

    code = ledger.report_lead(region="nanjing", source="informant", geometry=Point(118.7, 32.0), by="li",
                              reported_on=date(2026, 6, 1), reply_due=date(2026, 6, 15)).code
    late = ledger.overdue_steps(today=date(2026, 6, 20))
    assert [(o["code"], o["step"], o["days_late"]) for o in late] == [(code, "reply to the reporter", 5)]
    with pytest.raises(LedgerError, match="before the clue was received"):
        ledger.reply_clue(code, "已核查", by="li", on=date(2026, 5, 1), today=TODAY)
    ledger.reply_clue(code, "已核查，正在处理", by="li", on=date(2026, 6, 18), today=TODAY)
    assert ledger.overdue_steps(today=date(2026, 6, 20)) == []
    with pytest.raises(LedgerError, match="no clue awaiting"):
        ledger.reply_clue(code, "again", by="li", today=TODAY)


def test_clue_cli(ledger_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
        rc = run_app(app)
        out = capsys.readouterr()
        return rc, out.out, out.err

    with Ledger.open(ledger_url) as led:  # the ledger knows region nanjing from an imagery run
        led.record_run(run_record(n=1, after=date(2026, 5, 1)), leads_gdf([square(50000, 0, 40.0)]), None)
    rc, out, err = cli("ledger", "report", "--lon", "118.7", "--lat", "32.0", "--region", "nanjing", "--by", "li",
                       "--on", "2026-06-01", "--reporter", "王某", "--contact", "13800000000", "--ledger", ledger_url)
    assert rc == 0, err
    code = out.split(":")[0]
    rc, out, _ = cli("ledger", "clue", "list", "--ledger", ledger_url)
    assert code in out and "2026-07-31" in out and "13800000000" not in out
    rc, out, _ = cli("ledger", "clue", "list", "--with-contact", "--ledger", ledger_url)
    assert "13800000000" in out
    rc, out, err = cli("ledger", "clue", "reply", code, "--reply", "已受理", "--by", "li", "--on", "2026-06-03",
                       "--ledger", ledger_url)
    assert rc == 0 and "reply recorded" in out
    rc, _, err = cli("ledger", "clue", "reply", code, "--reply", "x", "--by", "li", "--ledger", ledger_url)
    assert rc == 3 and "no clue awaiting" in err
