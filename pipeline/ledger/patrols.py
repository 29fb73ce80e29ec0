"""Responsibility zones (分片包干), patrol records (with zero reports) and attachments."""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, insert, select, update

from pipeline import timeutil
from pipeline.errors import ConfigError, InputError
from pipeline.i18n import msg
from pipeline.ledger.events import append_event
from pipeline.ledger.matching import CLOSED, bbox
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_work import Attachment, Patrol, PatrolZone

MIN_PATROL_PERSONNEL = 2


def _names(value: Any) -> list[str]:
    from pipeline.ledger.lifecycle import _names as names

    return names(value)


def add_patrol_zone(conn: Connection, *, code: str, geometry: BaseGeometry, level: int,
                    persons: list[str] | str, by: str, name: str | None = None,
                    unit: str | None = None, region: str | None = None) -> int:
    """Add a responsibility zone (geometry in EPSG:4326); returns its id."""
    people = _names(persons)
    if not people:
        raise ConfigError(code, msg("ledger.zone_needs_person"))
    if conn.execute(select(PatrolZone.id).where(PatrolZone.code == code)).first() is not None:
        raise ConfigError(code, msg("ledger.zone_exists"))
    geometry = shapely.make_valid(geometry)
    values = dict(code=code, name=name, region=region, level=int(level), unit=unit, persons=people,
                  geom_wkb=shapely.to_wkb(geometry), **bbox(geometry))
    zid = conn.execute(insert(PatrolZone).values(**values).returning(PatrolZone.id)).scalar_one()
    append_event(conn, entity="patrol_zone", entity_id=zid, action="zone_added", actor=by,
                 after={k: v for k, v in values.items() if k != "geom_wkb"}
                 | {"geometry": shapely.to_wkt(geometry, rounding_precision=7)})
    take_over_open_leads(conn, zid, by)
    return zid


def update_patrol_zone(conn: Connection, *, code: str, by: str,
                       geometry: BaseGeometry | None = None, level: int | None = None,
                       persons: list[str] | str | None = None, name: str | None = None,
                       unit: str | None = None) -> bool:
    """Change a responsibility zone's outline, level, persons, name or unit (staff turnover,
    re-drawn zones); ``None`` keeps a value. Appends a ``zone_updated`` event with what changed,
    before and after; returns False (and writes nothing) when nothing differs. Leads already
    assigned keep their assignee: a reassignment is a dispatch, not a zone edit."""
    row = conn.execute(select(PatrolZone).where(PatrolZone.code == code)).mappings().first()
    if row is None:
        raise InputError(code, msg("ledger.no_zone"))
    new: dict[str, Any] = {}
    if persons is not None:
        people = _names(persons)
        if not people:
            raise ConfigError(code, msg("ledger.zone_needs_person"))
        new["persons"] = people
    if level is not None:
        new["level"] = int(level)
    if name is not None:
        new["name"] = name
    if unit is not None:
        new["unit"] = unit
    if geometry is not None:
        geometry = shapely.make_valid(geometry)
        if not shapely.from_wkb(row["geom_wkb"]).equals(geometry):
            new.update(geom_wkb=shapely.to_wkb(geometry), **bbox(geometry))
    changed = {k: v for k, v in new.items() if row[k] != v}
    if not changed:
        return False
    conn.execute(update(PatrolZone).where(PatrolZone.id == row["id"]).values(**changed))

    def shown(values: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if k in changed and k != "geom_wkb"
               and k not in ("minx", "miny", "maxx", "maxy")}
        if "geom_wkb" in changed:
            out["geometry"] = shapely.to_wkt(shapely.from_wkb(values["geom_wkb"]), rounding_precision=7)
        return out

    append_event(conn, entity="patrol_zone", entity_id=row["id"], action="zone_updated", actor=by,
                 before=shown(dict(row)), after=shown(changed))
    if "geom_wkb" in changed:  # a zone drawn wider takes over the unassigned leads it now holds
        take_over_open_leads(conn, int(row["id"]), by)
    return True


def take_over_open_leads(conn: Connection, zone_id: int, by: str) -> list[str]:
    """Open leads without a responsibility zone that zone ``zone_id`` now holds (the zone
    :func:`zone_for` gives them, as it would a new lead there) become its leads, assigned to
    its persons, one ``zone_takeover`` event each; returns their codes. Leads of another
    zone stay where a dispatch put them."""
    zone = conn.execute(select(PatrolZone).where(PatrolZone.id == zone_id)).mappings().one()
    rows = conn.execute(select(Lead.id, Lead.code, Lead.geom_wkb, Lead.assignee).where(
        Lead.patrol_zone_id.is_(None), Lead.status != CLOSED,
        Lead.minx <= zone["maxx"], Lead.maxx >= zone["minx"],
        Lead.miny <= zone["maxy"], Lead.maxy >= zone["miny"]).order_by(Lead.id)).all()
    taken = []
    for lead_id, code, wkb, assignee in rows:
        best = zone_for(conn, shapely.from_wkb(wkb))
        if best is None or int(best["id"]) != zone_id:
            continue
        values: dict[str, Any] = {"patrol_zone_id": zone_id}
        if not assignee:
            values["assignee"] = ",".join(zone["persons"]) or None
        conn.execute(update(Lead).where(Lead.id == lead_id).values(**values))
        append_event(conn, entity="lead", entity_id=lead_id, lead_code=code, action="zone_takeover",
                     actor=by, before={"patrol_zone_id": None, "assignee": assignee},
                     after=values | {"zone": zone["code"]})
        taken.append(code)
    return taken


def zone_for(conn: Connection, geom: BaseGeometry) -> dict[str, Any] | None:
    """The responsibility zone that holds most of ``geom`` (EPSG:4326), ``None`` if none."""
    minx, miny, maxx, maxy = geom.bounds
    rows = conn.execute(select(PatrolZone.id, PatrolZone.code, PatrolZone.persons, PatrolZone.geom_wkb)
                        .where(PatrolZone.minx <= maxx, PatrolZone.maxx >= minx,
                               PatrolZone.miny <= maxy, PatrolZone.maxy >= miny)
                        .order_by(PatrolZone.id)).mappings()
    best, best_share = None, 0.0
    for row in rows:
        zone = shapely.from_wkb(row["geom_wkb"])
        if not zone.intersects(geom):
            continue
        share = zone.intersection(geom).area if geom.area > 0 else 1.0
        if best is None or share > best_share:
            best, best_share = dict(row), share
    return best


def as_utc(dt: datetime | None) -> datetime | None:
    """An instant as an aware UTC datetime; naive values are read as UTC.

    The ledger keeps instants in UTC. SQLite keeps only the wall time of what it is given
    (``DateTime(timezone=True)`` drops the offset there), so a time written with +08:00 would
    read back 8 hours off and fall outside UTC day bounds; PostgreSQL converts either way.
    """
    return None if dt is None else timeutil.as_utc(dt)


def add_patrol(conn: Connection, *, started_at: datetime, personnel: list[str] | str, by: str,
               ended_at: datetime | None = None, route: BaseGeometry | None = None,
               zone_code: str | None = None, lead_codes: list[str] | None = None,
               project: str | None = None, party: str | None = None, location: str | None = None,
               situation: str | None = None, stop_measures: str | None = None,
               effect: str | None = None, follow_up: str | None = None) -> int:
    """Record a patrol; one without findings (no leads, no situation) is a zero report."""
    people = _names(personnel)
    if len(people) < MIN_PATROL_PERSONNEL:
        raise ConfigError("patrol", msg("ledger.patrol_personnel"))
    if route is not None and route.geom_type not in ("LineString", "MultiLineString"):
        raise ConfigError("patrol", msg("ledger.route_not_line", kind=route.geom_type))
    zone_id = None
    if zone_code:
        zone_id = conn.execute(select(PatrolZone.id).where(PatrolZone.code == zone_code)).scalar()
        if zone_id is None:
            raise InputError(zone_code, msg("ledger.no_zone"))
    codes = list(lead_codes or [])
    for code in codes:
        if conn.execute(select(Lead.id).where(Lead.code == code)).first() is None:
            raise InputError(code, msg("ledger.no_lead"))
    zero = not codes and not (situation or "").strip()
    values = dict(patrol_zone_id=zone_id, started_at=as_utc(started_at), ended_at=as_utc(ended_at), personnel=people,
                  route_wkb=None if route is None else shapely.to_wkb(route), project=project,
                  party=party, location=location, situation=situation, stop_measures=stop_measures,
                  effect=effect, follow_up=follow_up, lead_codes=codes, zero_report=zero,
                  recorded_by=by)
    pid = conn.execute(insert(Patrol).values(**values).returning(Patrol.id)).scalar_one()
    shown = {k: v for k, v in values.items() if k != "route_wkb"}
    shown["route"] = None if route is None else shapely.to_wkt(route, rounding_precision=7)
    append_event(conn, entity="patrol", entity_id=pid, action="patrol_recorded", actor=by, after=shown)
    return pid


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_attachment(conn: Connection, *, code: str, path: Path, by: str, kind: str = "photo",
                   taken_at: datetime | None = None, lon: float | None = None,
                   lat: float | None = None, bearing: float | None = None) -> str:
    """Register a photo/document of a lead by its content hash; returns the hash.

    ``bearing``: the direction the camera faced, degrees clockwise from north."""
    lead_id = conn.execute(select(Lead.id).where(Lead.code == code)).scalar()
    if lead_id is None:
        raise InputError(code, msg("ledger.no_lead"))
    if not path.is_file():
        raise InputError(path, msg("ledger.no_attachment"))
    digest = file_sha256(path)
    if bearing is not None and not 0 <= float(bearing) < 360:
        raise InputError(path, f"bearing {bearing} is not in 0..360 degrees")
    values = dict(lead_id=lead_id, path=str(path), sha256=digest, taken_at=taken_at, lon=lon, lat=lat,
                  kind=kind, recorded_by=by, bearing=bearing)
    aid = conn.execute(insert(Attachment).values(**values).returning(Attachment.id)).scalar_one()
    append_event(conn, entity="attachment", entity_id=aid, lead_code=code, action="attached",
                 actor=by, after=values)
    return digest
