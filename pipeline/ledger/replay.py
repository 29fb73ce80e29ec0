"""Replaying the event record: every lead's row must equal what its events say happened.

A lead is rebuilt from its events alone: ``created`` sets every value, later events set the
values in their ``after`` (a transition also has to be a step the lifecycle allows from the
state the replay is in, see :data:`pipeline.ledger.lifecycle.NEXT`). Any column the replay
knows must then equal the row, so a direct change to the ``leads`` table, a lead inserted or
deleted behind the ledger's back, or events cut off the end of a lead's history show up.
The replay is generic: a new lifecycle field is checked as soon as an event records it.

Events written before the ledger recorded every value (revision 0005) leave some values
unknown; those are not checked until a later event sets them again.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import shapely
from sqlalchemy import Connection, select

from pipeline.ledger.codes import jsonable
from pipeline.ledger.lifecycle import NEXT
from pipeline.ledger.schema import Event, Lead

#: columns that are bookkeeping, not what happened to the lead
_NOT_STATE = frozenset({"id", "geom_wkb", "minx", "miny", "maxx", "maxy", "created_at",
                        "updated_at", "first_run_id", "last_run_id"})
#: values an older ``seen_again`` event changed without recording them
_UNRECORDED_BY_OLD_SIGHTINGS = frozenset({
    "geometry", "change_class", "score_mean", "score_max", "centroid_lon", "centroid_lat", "zones",
    "approvals", "approved_share", "unapproved_area_m2", "priority_score"})
#: what a merged report changes on the lead it merges into (its other fields describe the report)
_MERGED_REPORT_KEYS = ("seen_count", "last_seen")


@dataclass
class _Replay:
    code: str
    state: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def _columns() -> frozenset[str]:
    return frozenset(c.name for c in Lead.__table__.columns) - _NOT_STATE


def _apply(rep: _Replay, event: dict[str, Any], columns: frozenset[str]) -> None:
    after: dict[str, Any] = json.loads(event["after"])
    action = event["action"]
    if action == "created":
        if rep.state:
            rep.problem = f"created again by event {event['id']}"
        rep.state = {}
    elif not rep.state and rep.problem is None:
        rep.problem = f"event {event['id']} ({action}) comes before the lead was created"
        return
    if action == "transition":
        now, to = rep.state.get("status"), after.get("status")
        if to not in NEXT.get(str(now), ()):
            rep.problem = f"event {event['id']} steps from {now} to {to}, which the lifecycle refuses"
            return
    if action == "merged_report":
        after = {k: after[k] for k in _MERGED_REPORT_KEYS if k in after}
        if "last_seen" not in after:
            rep.state.pop("last_seen", None)
    if action == "seen_again" and "last_seen" in after and "geometry" not in after:
        for key in _UNRECORDED_BY_OLD_SIGHTINGS:
            rep.state.pop(key, None)
    for key, value in after.items():
        if key in columns or key == "geometry":
            rep.state[key] = value


def _same(key: str, recorded: Any, row: dict[str, Any]) -> bool:
    if key == "geometry":
        try:
            return bool(shapely.equals_exact(shapely.from_wkt(recorded),
                                             shapely.from_wkb(row["geom_wkb"]), tolerance=1e-6))
        except shapely.errors.GEOSException:
            return False
    now = jsonable(row.get(key))
    if isinstance(recorded, (int, float)) and isinstance(now, (int, float)) \
            and not isinstance(recorded, bool) and not isinstance(now, bool):
        return math.isclose(recorded, now, rel_tol=1e-9, abs_tol=1e-9)
    return bool(recorded == now)


def _shown(value: Any) -> str:
    text = json.dumps(jsonable(value), ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def replay_leads(conn: Connection) -> tuple[int, str | None, str | None]:
    """Replay every lead; returns ``(leads checked, first bad lead code, its problem)``."""
    columns = _columns()
    replays: dict[str, _Replay] = {}
    for event in conn.execute(select(Event.id, Event.lead_code, Event.action, Event.after)
                              .where(Event.entity == "lead").order_by(Event.id)).mappings():
        code = event["lead_code"]
        seen = replays.setdefault(code, _Replay(code))
        if seen.problem is None:
            _apply(seen, dict(event), columns)
    rows = {r["code"]: dict(r) for r in conn.execute(select(Lead)).mappings()}
    for code in sorted(set(rows) | set(replays)):
        rep: _Replay | None = replays.get(code)
        row = rows.get(code)
        if row is None:
            return len(rows), code, "has events but no row in the leads table (deleted)"
        if rep is None or not rep.state:
            return len(rows), code, "is in the leads table but no event created it (inserted)"
        if rep.problem is not None:
            return len(rows), code, rep.problem
        for key in sorted(rep.state):
            if not _same(key, rep.state[key], row):
                now = "the geometry differs" if key == "geometry" else _shown(row.get(key))
                return len(rows), code, (f"{key} is {now} but its events say {_shown(rep.state[key])} "
                                         "(changed behind the ledger's back)")
    return len(rows), None, None
