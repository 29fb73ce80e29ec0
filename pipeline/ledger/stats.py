"""Figures supervisors are judged on, for a period and an area, drawn from the ledger.

The period selects leads by the day they were first seen (discovered) and patrols by the day
they started. Rates are over leads verified illegal (stop rate, filing rate) or over all leads
of the period (closure rate). Illegally occupied farmland is the zone area (m2, as screening
measured it) of leads verified illegal, counted per zone type.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pipeline.classes import m2_to_mu
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_work import Patrol, PatrolZone
from pipeline.timeutil import china_day_bounds

STOPPED_OR_LATER = ("stopped", "reported", "filed", "rectified", "closed")
FILED_OR_LATER = ("filed", "rectified", "closed")
FARMLAND = ("permanent_basic_farmland", "general_farmland")
IMAGERY_SOURCES = ("imagery", "drone")


@dataclass
class Stats:
    start: date
    end: date
    region: str | None
    zone: str | None
    leads: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_zone_level: dict[str, int] = field(default_factory=dict)
    illegal: int = 0
    stop_rate: float | None = None
    filing_rate: float | None = None
    closure_rate: float | None = None
    share_imagery: float | None = None
    share_patrol: float | None = None
    illegal_area_m2: float = 0.0
    illegal_farmland_m2: float = 0.0
    illegal_farmland_mu: float = 0.0
    illegal_basic_farmland_m2: float = 0.0
    illegal_basic_farmland_mu: float = 0.0
    illegal_farmland_share: float | None = None
    overdue: int = 0
    patrols: int = 0
    zero_reports: int = 0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d


def _rate(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def compute_stats(conn: Connection, start: date, end: date, today: date, calendar: WorkCalendar,
                  region: str | None = None, zone: str | None = None) -> Stats:
    from pipeline.ledger.overdue import overdue_leads

    stmt = select(Lead.code, Lead.source, Lead.status, Lead.zone_level, Lead.outcome, Lead.area_m2,
                  Lead.zones).where(Lead.first_seen >= start, Lead.first_seen <= end)
    pstmt = select(Patrol.zero_report).where(
        Patrol.started_at >= china_day_bounds(start)[0],
        Patrol.started_at < china_day_bounds(end)[1])
    if region is not None:
        stmt = stmt.where(Lead.region == region)
    if zone is not None:
        zid = select(PatrolZone.id).where(PatrolZone.code == zone).scalar_subquery()
        stmt = stmt.where(Lead.patrol_zone_id == zid)
        pstmt = pstmt.where(Patrol.patrol_zone_id == zid)
    rows = conn.execute(stmt).mappings().all()
    out = Stats(start=start, end=end, region=region, zone=zone, leads=len(rows))
    out.by_source = dict(Counter(r["source"] for r in rows))
    out.by_status = dict(Counter(r["status"] for r in rows))
    out.by_zone_level = dict(Counter("none" if r["zone_level"] is None else str(r["zone_level"])
                                     for r in rows))
    illegal = [r for r in rows if r["outcome"] == "illegal"]
    out.illegal = len(illegal)
    out.stop_rate = _rate(sum(r["status"] in STOPPED_OR_LATER for r in illegal), len(illegal))
    out.filing_rate = _rate(sum(r["status"] in FILED_OR_LATER for r in illegal), len(illegal))
    out.closure_rate = _rate(sum(r["status"] == "closed" for r in rows), len(rows))
    out.share_imagery = _rate(sum(r["source"] in IMAGERY_SOURCES for r in rows), len(rows))
    out.share_patrol = _rate(sum(r["source"] == "patrol" for r in rows), len(rows))
    for r in illegal:
        out.illegal_area_m2 += float(r["area_m2"] or 0.0)
        for z in r["zones"] or []:
            area = float(z.get("area_m2") or 0.0)
            if z.get("zone_type") in FARMLAND:
                out.illegal_farmland_m2 += area
            if z.get("zone_type") == "permanent_basic_farmland":
                out.illegal_basic_farmland_m2 += area
    out.illegal_farmland_mu = m2_to_mu(out.illegal_farmland_m2)
    out.illegal_basic_farmland_mu = m2_to_mu(out.illegal_basic_farmland_m2)
    out.illegal_farmland_share = _rate(out.illegal_farmland_m2, out.illegal_area_m2) if out.illegal_area_m2 else None
    codes = {r["code"] for r in rows}
    out.overdue = sum(o["code"] in codes for o in overdue_leads(conn, today, calendar))
    patrols = conn.execute(pstmt).scalars().all()
    out.patrols, out.zero_reports = len(patrols), sum(bool(z) for z in patrols)
    return out
