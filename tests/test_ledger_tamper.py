"""Tampering behind the ledger's back is caught: the chain head, keyed chain, anchors, replay."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from pipeline.ledger import ChainHead, Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.events import GENESIS
from pipeline.ledger.testing import leads_gdf, run_record, square

TODAY = date(2024, 6, 20)


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        yield led


def one_lead(led: Ledger, n: int = 0, where: tuple[float, float] = (0, 0)) -> str:
    return led.record_run(run_record(n=n, after=date(2024, 6, 1)), leads_gdf([square(*where, 50.0)]),
                          None).created[0]


def test_chain_head_is_the_last_event(ledger: Ledger) -> None:
    assert ledger.chain_head() == ChainHead(0, GENESIS, 0)
    code = one_lead(ledger)
    ledger.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    head = ledger.chain_head()
    last = ledger.read(lambda c: c.execute(text("SELECT id, hash FROM events ORDER BY id DESC")).first())
    n = ledger.read(lambda c: c.execute(text("SELECT COUNT(*) FROM events")).scalar())
    assert head == ChainHead(last[0], last[1], n) and n >= 2
    assert str(head.event_id) in str(head) and head.hash in str(head)
    with pytest.raises(AttributeError):
        head.hash = "x"  # type: ignore[misc]
