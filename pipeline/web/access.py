"""What a user may see: the one place zone rules are applied.

Analysts see every lead; supervisors and patrol members the leads whose responsibility zone
(``leads.patrol_zone_id``) is one of theirs. A lead outside is reported as absent (404), never
as forbidden, so its existence does not leak.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd

from pipeline.ledger import Ledger
from pipeline.web.users import User

OPEN_FOR_FIELD = ("new", "dispatched")  # on a patrol sheet: not yet verified


def user_zone_ids(ledger: Ledger, user: User) -> dict[int, str]:
    """Responsibility zone ids -> codes the user may see (all of them for an analyst)."""
    return ledger.zone_codes(None if user.sees_all else user.zones)


def visible_zone_codes(ledger: Ledger, user: User) -> list[str]:
    """Responsibility zones the user may filter by."""
    return sorted(user_zone_ids(ledger, user).values())


def may_see_lead(ledger: Ledger, user: User, code: str) -> bool:
    exists, zid = ledger.lead_zone_id(code)
    if not exists:
        return False
    return user.sees_all or (zid is not None and zid in user_zone_ids(ledger, user))


def lead_for(ledger: Ledger, user: User, code: str) -> dict[str, Any] | None:
    """The lead in detail if it exists and the user may see it; ``None`` otherwise (-> 404)."""
    return ledger.get_lead(code) if may_see_lead(ledger, user, code) else None


def team_members(assignee: Any) -> list[str]:
    """The names in an assignee value ("张伟,李娜"): a team is its members."""
    if not isinstance(assignee, str):
        return []
    return [n.strip() for n in assignee.replace("，", ",").replace("、", ",").split(",") if n.strip()]


def visible_teams(frame: pd.DataFrame) -> list[str]:
    """Distinct assignees (teams) of the leads in ``frame``."""
    if "assignee" not in frame.columns:
        return []
    return sorted({str(a).strip() for a in frame["assignee"] if isinstance(a, str) and a.strip()})


def visible_leads(ledger: Ledger, user: User, *, status: str | None = None, zone: str | None = None,
                  level: int | None = None, overdue: bool | None = None, team: str | None = None,
                  today: date | None = None) -> pd.DataFrame:
    """The leads the user may see, filtered; a GeoDataFrame with ``patrol_zone`` (code).

    ``team`` is an assignee as stored ("张伟,李娜") or one member's name ("李娜")."""
    frame = ledger.leads_with(["patrol_zone_id"], status=status)
    zones = user_zone_ids(ledger, user)
    if not user.sees_all:
        frame = frame[frame["patrol_zone_id"].isin(list(zones))]
    frame = frame.copy()
    frame["patrol_zone"] = [zones.get(int(z)) if pd.notna(z) else None for z in frame["patrol_zone_id"]]
    if zone:
        frame = frame[frame["patrol_zone"] == zone]
    if level is not None:
        frame = frame[frame["zone_level"] == level]
    if team:
        wanted = team.strip()
        frame = frame[[a == wanted or wanted in team_members(a) for a in frame["assignee"]]]
    if overdue is not None:
        late = {r["code"] for r in ledger.overdue(today)}
        frame = frame[frame["code"].isin(late) == overdue]
    return frame


def jsonable_row(row: dict[str, Any]) -> dict[str, Any]:
    """A lead's values as JSON can carry them (dates as ISO text, NaN as null)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("geometry", "geom_wkb"):
            continue
        if isinstance(value, float) and value != value:
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "item"):
            value = value.item()
        out[key] = value
    return json.loads(json.dumps(out, default=str))


def zone_filter(ledger: Ledger, user: User) -> Callable[[int | None], bool]:
    """Whether a record of responsibility zone ``patrol_zone_id`` is the user's (one read)."""
    if user.sees_all:
        return lambda patrol_zone_id: True
    ids = set(ledger.zone_codes(user.zones))
    return lambda patrol_zone_id: patrol_zone_id is not None and int(patrol_zone_id) in ids
