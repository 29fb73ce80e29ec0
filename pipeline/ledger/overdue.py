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
