"""Which periodic reports were issued, and which are due or late (``landpatrol report due``).

Issuing a report appends a ``report_issued`` event (kind, period, area, the chain head it was
printed against, the PDF's sha256) to the ledger's event record, so the record says what was
handed in and when. A report is open from the day after its period ends (the annual summary,
due 20 December, from 1 December) until issued; past its due date it is late.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from pipeline.assessment.data import Area
from pipeline.assessment.period import Period, half, month, quarter, year
from pipeline.ledger.events import append_event
from pipeline.ledger.schema import Event


def record_issued(conn: Connection, figures: dict[str, Any], pdf: Path, by: str) -> str:
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    p = figures["period"]
    return append_event(conn, entity="report", action="report_issued", actor=by,
                        after={"kind": p["kind"], "label": p["label"], "area": figures["area"],
                               "as_of": figures["as_of"], "chain_head": figures["chain_head"],
                               "pdf_sha256": digest, "file": pdf.name})


def issued(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(Event.at, Event.after).where(Event.action == "report_issued")
                        .order_by(Event.id)).all()
    return [json.loads(after) | {"at": at} for at, after in rows]


def _candidates(today: date) -> list[Period]:
    out: list[Period] = []
    y, m = today.year, today.month
    for k in range(1, 13):
        mm = (m - k - 1) % 12 + 1
        yy = y + (m - k - 1) // 12
        out.append(month(f"{yy:04d}-{mm:02d}"))
    for yy in (y - 1, y):
        out += [quarter(f"{yy}Q{q}") for q in range(1, 5)] + [half(f"{yy}H{h}") for h in (1, 2)]
        out.append(year(yy))
    return out


def due_reports(conn: Connection, today: date, area: Area) -> list[dict[str, Any]]:
    """Reports of the last twelve months not yet issued for ``area``: due or late, by due date."""
    done = {(r["kind"], r["label"]) for r in issued(conn) if r.get("area") == area.as_dict()}
    out = []
    for p in _candidates(today):
        opens = date(p.start.year, 12, 1) if p.kind == "annual" else p.end + timedelta(days=1)
        if p.due is None or today < opens or (p.kind, p.label) in done or p.due < today - timedelta(days=366):
            continue
        out.append({"kind": p.kind, "label": p.label, "title_zh": p.title_zh, "due": p.due.isoformat(),
                    "state": "late" if today > p.due else "due", "days_late": max((today - p.due).days, 0)})
    return sorted(out, key=lambda r: (r["due"], r["kind"]))
