"""The append-only event record and its keyed hash chain.

Every change to the ledger appends one row to ``events`` saying who did what, when, and the
values before and after (as canonical JSON text). Each row's ``hash`` covers its own fields and
the previous row's hash, so editing, deleting or reordering any row breaks the chain from that
row on; :func:`verify_chain` names the first row that no longer fits.

The chain is versioned by ``events.scheme``: events written since revision 0005 are HMAC-SHA256
under the ledger key (:mod:`pipeline.ledger.keys`, kept outside the database), so nobody
without the key can append a forged event or re-hash the chain after an edit; older events
(``scheme`` NULL) are plain sha256 and keep verifying as they are. Once a keyed event appears,
every later one must be keyed. Cutting events off the end leaves a valid shorter chain: an
anchor (:mod:`pipeline.ledger.anchor`) kept elsewhere proves that nothing was cut.
Appends happen inside the ledger's serialised write transaction, so the chain never forks.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from pipeline.ledger.codes import canonical_json
from pipeline.ledger.keys import HMAC_SCHEME, LedgerKey, find_key, ledger_key
from pipeline.ledger.schema import Event
from pipeline.timeutil import now_utc

GENESIS = "0" * 64


def utc_now_text() -> str:
    return now_utc().isoformat(timespec="microseconds")


def event_hash(prev_hash: str, entity: str, entity_id: int | None, lead_code: str | None,
               action: str, actor: str, at: str, before: str, after: str, note: str | None,
               key: LedgerKey | None = None) -> str:
    """The hash of one event: plain sha256 without ``key`` (the scheme before revision 0005),
    HMAC-SHA256 under ``key`` (the payload then names the scheme, so it cannot be swapped)."""
    fields: list[Any] = [prev_hash, entity, entity_id, lead_code, action, actor, at, before, after,
                         note]
    if key is None:
        return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()
    return key.sign(canonical_json([key.scheme, *fields]))


def append_event(conn: Connection, *, entity: str, action: str, actor: str,
                 entity_id: int | None = None, lead_code: str | None = None,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 note: str | None = None) -> str:
    """Append one event chained to the last one; returns its hash."""
    prev = conn.execute(select(Event.hash).order_by(Event.id.desc()).limit(1)).scalar() or GENESIS
    at = utc_now_text()
    key = ledger_key()
    before_t, after_t = canonical_json(before or {}), canonical_json(after or {})
    h = event_hash(prev, entity, entity_id, lead_code, action, actor, at, before_t, after_t, note,
                   key)
    conn.execute(insert(Event).values(
        entity=entity, entity_id=entity_id, lead_code=lead_code, action=action, actor=actor, at=at,
        before=before_t, after=after_t, note=note, prev_hash=prev, hash=h, scheme=key.scheme,
    ))
    return h


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a verification: ``broken_id`` is the first bad event, ``None`` if intact;
    ``lead_code``/``lead_problem`` the first lead whose row differs from the replay of its
    events (``leads`` leads checked); ``anchor_problem`` what an anchor found missing."""

    events: int
    broken_id: int | None = None
    problem: str | None = None
    leads: int = 0
    lead_code: str | None = None
    lead_problem: str | None = None
    anchor_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None and self.lead_problem is None and self.anchor_problem is None

    def describe(self) -> str:
        """One line: what is wrong first, or what was found intact."""
        if self.broken_id is not None:
            return f"event {self.broken_id} {self.problem}"
        if self.anchor_problem is not None:
            return self.anchor_problem
        if self.lead_problem is not None:
            return f"lead {self.lead_code}: {self.lead_problem}"
        return f"{self.events} event(s), hash chain intact, {self.leads} lead(s) equal their history"


@dataclass(frozen=True)
class ChainHead:
    """The last event of the chain: its id, its hash and how many events the chain holds.

    An empty chain's head is the genesis (``event_id`` 0, hash :data:`GENESIS`, 0 events).
    Printed in reports and dossiers so a reader can later check nothing before it changed.
    """

    event_id: int
    hash: str
    events: int

    def __str__(self) -> str:
        return f"event {self.event_id} ({self.events} events), hash {self.hash}"


def chain_head(conn: Connection) -> ChainHead:
    """The :class:`ChainHead` of the ledger behind ``conn``."""
    last = conn.execute(select(Event.id, Event.hash).order_by(Event.id.desc()).limit(1)).first()
    if last is None:
        return ChainHead(0, GENESIS, 0)
    count = conn.execute(select(func.count()).select_from(Event)).scalar_one()
    return ChainHead(int(last[0]), str(last[1]), int(count))


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute every hash in append order and check each link to the previous event."""
    prev = GENESIS
    n = 0
    keyed = False
    key = None
    for row in conn.execute(select(Event).order_by(Event.id)).mappings():
        n += 1
        if row["prev_hash"] != prev:
            return ChainReport(n, row["id"], "does not link to the event before it "
                               "(an event was removed, inserted or reordered)")
        scheme = row["scheme"]
        if scheme is None:
            if keyed:
                return ChainReport(n, row["id"], "is not keyed although earlier events are "
                                   "(forged or re-hashed)")
            signer = None
        else:
            keyed = True
            key = key or find_key()
            if not scheme.startswith(HMAC_SCHEME + ":"):
                return ChainReport(n, row["id"], f"has an unknown chain scheme '{scheme}'")
            if key is None:
                return ChainReport(n, row["id"], "is keyed but no ledger key is configured "
                                   "(set LANDPATROL_LEDGER_KEY or the key file)")
            if scheme != key.scheme:
                return ChainReport(n, row["id"], f"is keyed with another key ({scheme}; this "
                                   f"machine's key is {key.key_id}), or was forged")
            signer = key
        expect = event_hash(prev, row["entity"], row["entity_id"], row["lead_code"], row["action"],
                            row["actor"], row["at"], row["before"], row["after"], row["note"],
                            signer)
        if expect != row["hash"]:
            return ChainReport(n, row["id"], "content does not match its hash (edited)")
        prev = row["hash"]
    return ChainReport(n)


def history(conn: Connection, lead_code: str) -> list[dict[str, Any]]:
    """Events of one lead in order, before/after decoded."""
    import json

    out = []
    for row in conn.execute(select(Event).where(Event.lead_code == lead_code).order_by(Event.id)).mappings():
        d = dict(row)
        d["before"], d["after"] = json.loads(d["before"]), json.loads(d["after"])
        out.append(d)
    return out
