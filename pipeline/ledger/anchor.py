"""Anchors: the chain head written down outside the ledger, to prove later that nothing before
it was cut off or rewritten.

A valid chain can still be cut short (the last events deleted) or, for the plain sha256 events
of older ledgers, rebuilt after an edit. ``landpatrol ledger anchor`` writes the head (event
id, hash, number of events, time, the ledger's identity: its URL and its first event's hash)
as JSON, with an HMAC under the ledger key; keep it somewhere the database's users cannot
write (a report, a mail, another machine). ``ledger verify --anchor FILE`` then requires the
anchored event to be there with the same hash and exactly as many events up to it.
"""
from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from pipeline.errors import InputError
from pipeline.ledger.codes import canonical_json
from pipeline.ledger.events import GENESIS, chain_head
from pipeline.ledger.keys import LedgerKey, find_key
from pipeline.ledger.schema import Event
from pipeline.timeutil import now_utc

FORMAT = "landpatrol-ledger-anchor/1"
_FIELDS = ("format", "ledger", "first_hash", "event_id", "hash", "events", "at", "key_id")


def _first_hash(conn: Connection) -> str:
    return conn.execute(select(Event.hash).order_by(Event.id).limit(1)).scalar() or GENESIS


def _mac(anchor: dict[str, Any], key: LedgerKey) -> str:
    return key.sign(canonical_json({k: anchor.get(k) for k in _FIELDS}))


def make_anchor(conn: Connection, url: str, key: LedgerKey | None = None) -> dict[str, Any]:
    """The anchor of the ledger behind ``conn`` now (signed when a key is configured)."""
    key = key or find_key()
    head = chain_head(conn)
    anchor: dict[str, Any] = {
        "format": FORMAT, "ledger": url, "first_hash": _first_hash(conn),
        "event_id": head.event_id, "hash": head.hash, "events": head.events,
        "at": now_utc().isoformat(timespec="seconds"),
        "key_id": key.key_id if key else None,
    }
    if key is not None:
        anchor["mac"] = _mac(anchor, key)
    return anchor


def read_anchor(path: Path) -> dict[str, Any]:
    """An anchor file, checked for shape (not yet against a ledger)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable anchor file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(path, f"not a landpatrol ledger anchor (format {FORMAT} expected)")
    for name, kind in (("event_id", int), ("events", int), ("hash", str), ("first_hash", str)):
        if not isinstance(data.get(name), kind):
            raise InputError(path, f"anchor field '{name}' is missing or malformed")
    return data


def check_anchor(conn: Connection, anchor: dict[str, Any]) -> str | None:
    """``None`` when the ledger still holds everything up to the anchored head, else why not."""
    key = find_key()
    if anchor.get("mac") is not None:
        if key is None or key.key_id != anchor.get("key_id"):
            return (f"the anchor is signed with key {anchor.get('key_id')}, which is not this "
                    "machine's ledger key")
        if not hmac.compare_digest(str(anchor["mac"]), _mac(anchor, key)):
            return "the anchor file was altered (its signature does not match)"
    event_id, events = anchor["event_id"], anchor["events"]
    if events == 0:
        return None
    if _first_hash(conn) != anchor["first_hash"]:
        return "the ledger's first event is not the anchored ledger's (another ledger, or rewritten)"
    found = conn.execute(select(Event.hash).where(Event.id == event_id)).scalar()
    if found is None:
        return (f"anchored event {event_id} is missing: events were cut off or deleted "
                f"(the anchor counted {events})")
    if found != anchor["hash"]:
        return f"anchored event {event_id} has another hash: the chain was rewritten up to it"
    upto = conn.execute(select(func.count()).select_from(Event).where(Event.id <= event_id)).scalar_one()
    if upto != events:
        return f"{upto} event(s) up to anchored event {event_id}, the anchor counted {events}"
    return None
