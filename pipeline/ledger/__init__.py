"""The patrol ledger (巡查台账): runs, leads and everything done about them.

SQLAlchemy 2.0 over SQLite (WAL, the embedded default) or PostgreSQL; schema managed by Alembic
migrations that run when a ledger is opened. Entry point: :meth:`Ledger.open`.
"""
from __future__ import annotations

from pipeline.ledger.accounts import MIN_PASSWORD_CHARS, ROLES, Account
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.codes import pair_key, region_prefix
from pipeline.ledger.events import ChainHead, ChainReport
from pipeline.ledger.fieldwork import Photo, Step
from pipeline.ledger.lifecycle import FALSE_POSITIVE_REASONS, NEXT, OUTCOMES, STATES, TransitionError
from pipeline.ledger.queries import LEAD_FRAME_COLUMNS
from pipeline.ledger.records import RunOutcome, RunRecord
from pipeline.ledger.sources import SOURCES, Reported
from pipeline.ledger.stats import Stats
from pipeline.ledger.store import Ledger

__all__ = [
    "MIN_PASSWORD_CHARS", "ROLES", "Account",
    "FALSE_POSITIVE_REASONS", "LEAD_FRAME_COLUMNS", "NEXT", "OUTCOMES", "Photo", "SOURCES", "STATES",
    "ChainHead", "ChainReport", "Ledger", "Reported", "RunOutcome", "RunRecord", "Stats", "Step",
    "TransitionError", "WorkCalendar", "pair_key",
    "region_prefix",
]
