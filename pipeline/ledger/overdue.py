"""Deadlines in working days: the violation report is due 2 working days after a lead is
verified illegal; a lead still not reported after that day is overdue."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.lifecycle import OPEN_AFTER_VERIFY_ILLEGAL
from pipeline.ledger.schema import Lead


def overdue_leads(conn: Connection, today: date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Leads whose report was due before ``today`` and not made, most overdue first."""
    rows = conn.execute(
        select(Lead.code, Lead.status, Lead.assignee, Lead.verified_on, Lead.report_due)
        .where(Lead.report_due.is_not(None), Lead.report_due < today, Lead.reported_on.is_(None),
               Lead.status.in_(OPEN_AFTER_VERIFY_ILLEGAL))
        .order_by(Lead.report_due, Lead.code)).mappings()
    out = []
    for r in rows:
        d = dict(r)
        d["rule"] = "report within 2 working days of verification"
        d["working_days_late"] = calendar.working_days_between(r["report_due"], today)
        out.append(d)
    return out


def report_overdue(leads: list[dict[str, Any]], as_of: date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Of ``leads`` (rows with their step dates as of ``as_of``), those whose violation report
    was due before ``as_of`` and not made by then, unless corrected on the spot or closed."""
    out = []
    for lead in leads:
        due = lead.get("report_due")
        if (due is None or due >= as_of or lead.get("reported_on") is not None
                or lead.get("closed_on") is not None or lead.get("disposal") == "corrected_on_spot"):
            continue
        out.append({"code": lead["code"], "report_due": due, "rule": "report within 2 working days of verification",
                    "working_days_late": calendar.working_days_between(due, as_of)})
    return out


def overdue_steps(conn: Connection, today: date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Every step past its deadline on ``today``: the violation report (2 working days), the
    follow-up of a correction deadline (限期改正) not yet made, the reply to a reporter."""
    from pipeline.ledger.clues import overdue_replies

    out = [{"code": o["code"], "step": "violation report", "due": o["report_due"],
            "days_late": o["working_days_late"], "late_in": "working days"}
           for o in overdue_leads(conn, today, calendar)]
    rows = conn.execute(select(Lead.code, Lead.correction_deadline).where(
        Lead.correction_deadline.is_not(None), Lead.correction_deadline < today,
        Lead.correction_result.is_(None), Lead.status.in_(("stopped", "reported", "filed")))
        .order_by(Lead.correction_deadline)).mappings()
    out += [{"code": r["code"], "step": "follow-up of the correction deadline", "due": r["correction_deadline"],
             "days_late": (today - r["correction_deadline"]).days, "late_in": "days"} for r in rows]
    out += [{"code": r["code"], "step": r["step"], "due": r["due"], "days_late": r["days_late"],
             "late_in": "days"} for r in overdue_replies(conn, today)]
    return sorted(out, key=lambda o: (o["due"], o["code"]))
