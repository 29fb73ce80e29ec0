"""Field work as the web app records it: several steps of one lead with their photos in one
transaction, submissions synced from phones recorded once (idempotency keys), and the
responsibility zones' reads a field app needs (persons, outlines, the zone at a point).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, insert, select

from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.lifecycle import apply_transition
from pipeline.ledger.patrols import add_attachment, add_patrol, as_utc, zone_for
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_work import Patrol, PatrolZone, Submission


@dataclass(frozen=True)
class Step:
    """One lifecycle step to take: target state, its fields, an optional note."""

    to: str
    fields: dict[str, Any]
    note: str | None = None


@dataclass(frozen=True)
class Photo:
    """A photo already saved on disk, to register with the steps."""

    path: Path
    taken_at: datetime | None = None
    lon: float | None = None
    lat: float | None = None
    kind: str = "photo"
    bearing: float | None = None  # camera direction, degrees from north (EXIF)


def seen_key(conn: Connection, key: str | None) -> bool:
    """Whether a submission with idempotency ``key`` was recorded already."""
    if not key:
        return False
    return conn.execute(select(Submission.id).where(Submission.key == key)).first() is not None


def remember_key(conn: Connection, key: str | None, kind: str, by: str, lead_code: str | None) -> None:
    if key:
        conn.execute(insert(Submission).values(key=key, kind=kind, lead_code=lead_code,
                                               recorded_by=by, recorded_at=datetime.now(UTC)))


def take_steps(conn: Connection, code: str, steps: list[Step], by: str, photos: list[Photo],
               today: date, calendar: WorkCalendar, key: str | None = None) -> bool:
    """Take ``steps`` of lead ``code`` in order and register ``photos``, in the caller's write
    transaction; False (nothing written) when ``key`` was recorded before."""
    if seen_key(conn, key):
        return False
    for step in steps:
        apply_transition(conn, code, step.to, by, dict(step.fields), step.note, today, calendar)
    for p in photos:
        add_attachment(conn, code=code, path=p.path, by=by, kind=p.kind, taken_at=p.taken_at,
                       lon=p.lon, lat=p.lat, bearing=p.bearing)
    remember_key(conn, key, "steps", by, code)
    return True


def record_patrol(conn: Connection, key: str | None, by: str, **kwargs: Any) -> int | None:
    """:func:`~pipeline.ledger.patrols.add_patrol` once per ``key``; ``None`` for a repeat."""
    if seen_key(conn, key):
        return None
    pid = add_patrol(conn, by=by, **kwargs)
    remember_key(conn, key, "patrol", by, None)
    return pid


def zone_codes(conn: Connection, codes: tuple[str, ...] | None = None) -> dict[int, str]:
    """Responsibility zone ids -> codes (all, or those among ``codes``)."""
    stmt = select(PatrolZone.id, PatrolZone.code)
    if codes is not None:
        if not codes:
            return {}
        stmt = stmt.where(PatrolZone.code.in_(codes))
    return {int(r.id): r.code for r in conn.execute(stmt)}


def lead_zone_id(conn: Connection, code: str) -> tuple[bool, int | None]:
    """(whether lead ``code`` exists, its responsibility zone id)."""
    row = conn.execute(select(Lead.patrol_zone_id).where(Lead.code == code)).first()
    return (False, None) if row is None else (True, None if row[0] is None else int(row[0]))


def patrol_zones(conn: Connection, codes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Responsibility zones (all, or ``codes``) with code, name, level, persons and outline."""
    stmt = select(PatrolZone).order_by(PatrolZone.code)
    if codes is not None:
        stmt = stmt.where(PatrolZone.code.in_(codes))
    out = []
    for row in conn.execute(stmt).mappings():
        z = {k: row[k] for k in ("id", "code", "name", "region", "level", "unit", "persons")}
        z["geometry"] = shapely.from_wkb(row["geom_wkb"])
        out.append(z)
    return out


def zone_at(conn: Connection, geom: BaseGeometry) -> str | None:
    """Code of the responsibility zone that holds most of ``geom`` (EPSG:4326)."""
    found = zone_for(conn, geom)
    return None if found is None else str(found["code"])


def patrols_between(conn: Connection, zone: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Patrols of zone ``zone`` that started in [start, end), times as aware UTC datetimes."""
    zid = conn.execute(select(PatrolZone.id).where(PatrolZone.code == zone)).scalar()
    if zid is None:
        return []
    rows = conn.execute(select(Patrol).where(Patrol.patrol_zone_id == zid,
                                             Patrol.started_at >= as_utc(start),
                                             Patrol.started_at < as_utc(end))
                        .order_by(Patrol.started_at)).mappings()
    out = []
    for r in rows:
        p = {k: v for k, v in dict(r).items() if k != "route_wkb"}
        p["route"] = None if r["route_wkb"] is None else shapely.from_wkb(r["route_wkb"])
        for k in ("started_at", "ended_at"):
            p[k] = as_utc(p[k])
        out.append(p)
    return out


def day_bounds(day: date, tz: timezone) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, start + timedelta(days=1)
