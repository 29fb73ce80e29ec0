"""The clue register (线索登记): who reported a lead, when the reply is due, the reply.

Reporters are protected (举报人保密): their name and contact are kept in ``clues`` and shown to
supervisors only; the event record keeps a sha256 of them, so the register can be checked
against the chain without printing who reported. The reply is due 60 days after receipt by
default (《信访工作条例》: a matter is handled within 60 days of acceptance).
"""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipeline.errors import LedgerError
from pipeline.ledger.events import append_event
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_enforcement import Clue

REPLY_DAYS = 60
PEOPLE_SOURCES = ("hotline", "informant", "media", "referral")


def _sealed(reporter: str | None, contact: str | None) -> str | None:
    if not reporter and not contact:
        return None
    return hashlib.sha256(f"{reporter or ''}\x1f{contact or ''}".encode()).hexdigest()


def register_clue(conn: Connection, *, lead_id: int, code: str, channel: str, received_on: date,
                  by: str, reporter: str | None = None, contact: str | None = None,
                  reply_due: date | None = None) -> int:
    """Register who reported lead ``code`` (inside the caller's write transaction)."""
    due = reply_due or received_on + timedelta(days=REPLY_DAYS)
    if due < received_on:
        raise LedgerError(code, f"reply due {due} is before the clue was received ({received_on})")
    values = {"lead_id": lead_id, "channel": channel, "reporter": reporter, "contact": contact,
                  "received_on": received_on, "reply_due": due, "recorded_by": by}
    cid = conn.execute(insert(Clue).values(**values).returning(Clue.id)).scalar_one()
    append_event(conn, entity="clue", entity_id=cid, lead_code=code, action="clue_registered", actor=by,
                 after={"channel": channel, "received_on": received_on, "reply_due": due,
                        "reporter_sha256": _sealed(reporter, contact)})
    return cid


def reply_clue(conn: Connection, *, code: str, reply: str, on: date, by: str, today: date) -> int:
    """Record the reply to whoever reported lead ``code``; returns the clue id."""
    if not reply.strip():
        raise LedgerError(code, "the reply is empty")
    if on > today:
        raise LedgerError(code, f"reply date {on} is in the future")
    row = conn.execute(select(Clue).join(Lead, Lead.id == Clue.lead_id).where(
        Lead.code == code, Clue.replied_on.is_(None)).order_by(Clue.id).limit(1)).mappings().first()
    if row is None:
        raise LedgerError(code, "no clue awaiting a reply on this lead")
    if on < row["received_on"]:
        raise LedgerError(code, f"reply date {on} is before the clue was received ({row['received_on']})")
    conn.execute(update(Clue).where(Clue.id == row["id"]).values(reply=reply.strip(), replied_on=on))
    append_event(conn, entity="clue", entity_id=row["id"], lead_code=code, action="clue_replied", actor=by,
                 before={"replied_on": None}, after={"replied_on": on, "reply": reply.strip()})
    return int(row["id"])


def clues(conn: Connection, code: str | None = None, with_contact: bool = False) -> list[dict[str, Any]]:
    """Registered clues (newest first); reporter and contact only with ``with_contact``."""
    stmt = select(Clue, Lead.code).join(Lead, Lead.id == Clue.lead_id).order_by(Clue.id.desc())
    if code is not None:
        stmt = stmt.where(Lead.code == code)
    out = []
    for row in conn.execute(stmt).mappings():
        d = dict(row)
        if not with_contact:
            d["reporter"] = d["contact"] = None
        out.append(d)
    return out


def overdue_replies(conn: Connection, today: date) -> list[dict[str, Any]]:
    """Clues whose reply was due before ``today`` and not given."""
    rows = conn.execute(select(Clue.id, Clue.channel, Clue.received_on, Clue.reply_due, Lead.code)
                        .join(Lead, Lead.id == Clue.lead_id)
                        .where(Clue.replied_on.is_(None), Clue.reply_due < today)
                        .order_by(Clue.reply_due)).mappings()
    return [dict(r) | {"step": "reply to the reporter", "due": r["reply_due"],
                       "days_late": (today - r["reply_due"]).days} for r in rows]
