"""Leads that come from people rather than imagery: patrol finds, the 12336 hotline, informants,
media, referrals from above. One place, one lead: a report at the spot of an open lead merges
into it (one more sighting, the report kept as an observation and an event) instead of
opening a twin.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, insert, select, update

from pipeline.classes import m2_to_mu
from pipeline.errors import ConfigError
from pipeline.i18n import msg, terms
from pipeline.ledger.codes import allocate_code
from pipeline.ledger.events import append_event
from pipeline.ledger.intake import PatchRow
from pipeline.ledger.matching import STORAGE_CRS, bbox, best_open_lead
from pipeline.ledger.recording import assignment, insert_observation
from pipeline.ledger.schema import Lead
from pipeline.timeutil import now_utc

SOURCES = ("imagery", "drone", "patrol", "hotline", "informant", "media", "referral")
#: leads opened by an issued patch of the annual satellite inspection (not a report: see review)
INSPECTION_SOURCE = "satellite_inspection"
MERGE_RADIUS_M = 30.0  # a point report within this distance of a lead is about that lead


@dataclass(frozen=True)
class Reported:
    """Result of :func:`report_lead`: the lead's code and whether the report merged into it."""

    code: str
    merged: bool


def footprint(geom: BaseGeometry, radius_m: float) -> tuple[BaseGeometry, float]:
    """Where a report is about (EPSG:4326) and its area in m2: polygons as given, points and
    lines widened by ``radius_m`` (their area counts as 0: nobody measured it yet)."""
    series = gpd.GeoSeries([geom], crs=STORAGE_CRS)
    utm = series.to_crs(series.estimate_utm_crs())
    if geom.area > 0:
        return geom, float(utm.area.iloc[0])
    return utm.buffer(radius_m).to_crs(STORAGE_CRS).iloc[0], 0.0


def report_lead(conn: Connection, *, region: str, source: str, geometry: BaseGeometry,
                reported_on: date, by: str, description: str | None = None,
                party: str | None = None, radius_m: float = MERGE_RADIUS_M,
                reporter: str | None = None, contact: str | None = None,
                reply_due: date | None = None) -> Reported:
    """Register a lead from ``source`` at ``geometry`` (EPSG:4326), merging into an open lead.

    A report from people (hotline, informant, media, referral) also goes into the clue register
    with the reporter's name and contact and the reply deadline (:mod:`pipeline.ledger.clues`)."""
    from pipeline.ledger.clues import PEOPLE_SOURCES, register_clue

    def clue(lead_id: int, code: str) -> None:
        if source in PEOPLE_SOURCES or reporter or contact:
            register_clue(conn, lead_id=lead_id, code=code, channel=source, received_on=reported_on,
                          by=by, reporter=reporter, contact=contact, reply_due=reply_due)

    if source not in SOURCES:
        raise ConfigError(source, msg("ledger.unknown_source", sources=terms("source", SOURCES)))
    if geometry.is_empty:
        raise ConfigError(region, msg("ledger.report_needs_location"))
    geom, area = footprint(shapely.make_valid(geometry), radius_m)
    now = now_utc()
    row = PatchRow(geom=geom, area_m2=area, attrs={"score_mean": None, "score_max": None})
    lead_id = best_open_lead(conn, region, geom)
    if lead_id is not None:
        lead = conn.execute(select(Lead.code, Lead.seen_count, Lead.last_seen).where(Lead.id == lead_id)).one()
        conn.execute(update(Lead).where(Lead.id == lead_id).values(
            seen_count=lead.seen_count + 1, last_seen=max(lead.last_seen, reported_on), updated_at=now))
        insert_observation(conn, lead_id, None, reported_on, row, source=source)
        append_event(conn, entity="lead", entity_id=lead_id, lead_code=lead.code, action="merged_report",
                     actor=by, before={"seen_count": lead.seen_count},
                     after={"seen_count": lead.seen_count + 1, "last_seen": max(lead.last_seen, reported_on),
                            "source": source,
                            "reported_on": reported_on, "description": description})
        clue(lead_id, lead.code)
        return Reported(lead.code, True)
    code = create_lead(conn, region=region, source=source, geom=geom, area_m2=area,
                       seen_on=reported_on, by=by, row=row, now=now,
                       extra={"description": description, "party": party})
    clue(conn.execute(select(Lead.id).where(Lead.code == code)).scalar_one(), code)
    return Reported(code, False)


def create_lead(conn: Connection, *, region: str, source: str, geom: BaseGeometry, area_m2: float,
                seen_on: date, by: str, row: PatchRow, now: datetime,
                extra: dict[str, Any] | None = None) -> str:
    """A new lead of a non-imagery ``source`` at ``geom`` (EPSG:4326) with its first
    observation and ``created`` event; returns its code. ``extra``: more lead columns."""
    code = allocate_code(conn, region, seen_on.year)
    c = geom.centroid
    values: dict[str, Any] = dict(
        code=code, region=region, status="new", source=source, geom_wkb=shapely.to_wkb(geom),
        **bbox(geom), area_m2=area_m2, area_mu=m2_to_mu(area_m2), first_seen=seen_on,
        last_seen=seen_on, seen_count=1, centroid_lon=c.x, centroid_lat=c.y, zones=[],
        approvals=[], approved_share=0.0, created_at=now, updated_at=now,
        **assignment(conn, geom), **(extra or {}),
    )
    new_id = conn.execute(insert(Lead).values(**values).returning(Lead.id)).scalar_one()
    insert_observation(conn, new_id, None, seen_on, row, source=source)
    shown = {k: v for k, v in values.items() if k not in ("geom_wkb", "created_at", "updated_at")}
    shown["geometry"] = shapely.to_wkt(geom, rounding_precision=7)
    append_event(conn, entity="lead", entity_id=new_id, lead_code=code, action="created", actor=by,
                 after=shown)
    return code
