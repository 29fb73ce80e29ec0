"""What the indicators read: the leads, patrols, zones and approved changes of a period and area.

A lead belongs to a period when work on it happened in the period: it was discovered (first
seen), verified, stopped, filed or closed on a day of the period. Each step's date comes from
its record (stop notice issued, case filed) and only steps up to the period's end count, so a
report printed again later gives the same numbers. Patrols count by the China day they started;
approved changes by the China day their run was recorded (the day the bureau learned of them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import shapely
from sqlalchemy import Connection, func, select

from pipeline.assessment.period import CHINA, Period
from pipeline.ledger.patrols import as_utc
from pipeline.ledger.schema import ApprovedChange, Lead, Run
from pipeline.ledger.schema_work import (
    Case,
    Patrol,
    PatrolZone,
    StopNotice,
    Verification,
)

STEP_DATES = ("first_seen", "verified_on", "stopped_on", "filed_on", "closed_on")
LEAD_COLUMNS = ("id", "code", "region", "source", "status", "outcome", "first_seen", "verified_on",
                "reported_on", "report_due", "closed_on", "zones", "area_m2", "area_mu",
                "patrol_zone_id", "disposal", "correction_deadline", "correction_result",
                "escalated_on", "transferred_to", "centroid_lon", "centroid_lat", "created_at",
                "case_no", "notice_no", "assignee", "zone_level")


@dataclass(frozen=True)
class Area:
    """Where the figures are for: a region code, a responsible unit, one responsibility zone."""

    region: str | None = None
    unit: str | None = None
    zone: str | None = None
    zones: tuple[str, ...] | None = None  # several zones (a supervisor's)

    @property
    def by_zone(self) -> bool:
        return self.unit is not None or self.zone is not None or self.zones is not None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, "unit": self.unit, "zone": self.zone}
        if self.zones is not None:
            out["zones"] = list(self.zones)
        return out


@dataclass
class PeriodData:
    period: Period
    area: Area
    today: date
    leads: list[dict[str, Any]] = field(default_factory=list)
    zones: list[dict[str, Any]] = field(default_factory=list)
    patrols: list[dict[str, Any]] = field(default_factory=list)
    approved: list[dict[str, Any]] = field(default_factory=list)
    batch_patches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def as_of(self) -> date:
        """Steps count up to the period's end, or today while the period runs."""
        return min(self.period.end, self.today)

    def within(self, day: date | None) -> bool:
        return day is not None and self.period.start <= day <= self.as_of


def china_day(instant: datetime | None) -> date | None:
    utc = as_utc(instant)
    return None if utc is None else utc.astimezone(CHINA).date()


def _zone_filter(conn: Connection, area: Area) -> list[dict[str, Any]]:
    stmt = select(PatrolZone).order_by(PatrolZone.code)
    if area.region is not None:
        stmt = stmt.where((PatrolZone.region == area.region) | PatrolZone.region.is_(None))
    if area.unit is not None:
        stmt = stmt.where(PatrolZone.unit == area.unit)
    if area.zone is not None:
        stmt = stmt.where(PatrolZone.code == area.zone)
    if area.zones is not None:
        stmt = stmt.where(PatrolZone.code.in_(area.zones or ("",)))
    zones = [dict(r) for r in conn.execute(stmt).mappings()]
    for z in zones:
        z["geometry"] = shapely.from_wkb(z.pop("geom_wkb"))
    return zones


def load(conn: Connection, period: Period, area: Area, today: date) -> PeriodData:
    out = PeriodData(period, area, today)
    out.zones = _zone_filter(conn, area)
    zone_ids = {z["id"] for z in out.zones}
    lo, hi = period.utc_bounds()
    stmt = select(*[getattr(Lead, c) for c in LEAD_COLUMNS]).order_by(Lead.code)
    if area.region is not None:
        stmt = stmt.where(Lead.region == area.region)
    if area.by_zone:
        stmt = stmt.where(Lead.patrol_zone_id.in_(zone_ids or {-1}))
    stopped: dict[int, date] = {r[0]: r[1] for r in conn.execute(
        select(StopNotice.lead_id, func.min(StopNotice.issued_on)).group_by(StopNotice.lead_id))}
    filed: dict[int, date] = {r[0]: r[1] for r in conn.execute(
        select(Case.lead_id, func.min(Case.filed_on)).group_by(Case.lead_id))}
    on_patrol = {r[0] for r in conn.execute(select(Verification.lead_id)
                                            .where(Verification.patrol_id.is_not(None)))}
    pstmt = select(Patrol).where(Patrol.started_at >= lo, Patrol.started_at <= hi).order_by(Patrol.id)
    if area.region is not None or area.by_zone:
        pstmt = pstmt.where(Patrol.patrol_zone_id.in_(zone_ids or {-1}))
    for row in conn.execute(pstmt).mappings():
        p = dict(row)
        p["day"] = china_day(p["started_at"])
        p["route"] = None if p.pop("route_wkb") is None else shapely.from_wkb(row["route_wkb"])
        out.patrols.append(p)
    patrol_codes = {c for p in conn.execute(select(Patrol.lead_codes)).scalars() for c in (p or [])}
    for row in conn.execute(stmt).mappings():
        lead = dict(row)
        lead["stopped_on"], lead["filed_on"] = stopped.get(lead["id"]), filed.get(lead["id"])
        lead["discovered_on"] = china_day(lead.pop("created_at"))
        lead["on_patrol"] = lead["id"] in on_patrol or lead["code"] in patrol_codes
        for key in (*STEP_DATES[1:], "reported_on"):  # a step after the period's end: not yet
            if lead[key] is not None and lead[key] > out.as_of:
                lead[key] = None
        if any(out.within(lead[k]) for k in STEP_DATES):
            out.leads.append(lead)
    astmt = select(ApprovedChange.zones, ApprovedChange.area_m2, Run.recorded_at).join(
        Run, Run.id == ApprovedChange.run_id).where(Run.recorded_at >= lo, Run.recorded_at <= hi)
    if area.region is not None:
        astmt = astmt.where(ApprovedChange.region == area.region)
    if not area.by_zone:  # approved changes carry no responsibility zone
        out.approved = [dict(r) for r in conn.execute(astmt).mappings()]
    out.batch_patches = inspection_patches(conn, out, zone_ids)
    return out


def inspection_patches(conn: Connection, d: PeriodData, zone_ids: set[int]) -> list[dict[str, Any]]:
    """The patches of the satellite-inspection batches issued in the period (their leads' state)."""
    from pipeline.ledger.inspection_queries import batch_patches, list_batches

    rows: list[dict[str, Any]] = []
    for batch in list_batches(conn):
        if not d.within(batch["issued_on"]) or (d.area.region is not None and batch["region"] != d.area.region):
            continue
        frame = batch_patches(conn, batch["name"])
        for rec in frame.drop(columns="geometry").to_dict("records"):
            if not d.area.by_zone or rec["patrol_zone_id"] in zone_ids:
                rows.append(rec)
    return rows
