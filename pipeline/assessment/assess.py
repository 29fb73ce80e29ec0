"""One assessment of a period and area: the indicators and the counts behind the reports.

``ledger stats``, ``landpatrol assess``, the periodic reports and the dashboard all call
:func:`assess`, so the same period and area give the same numbers everywhere.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from pipeline.assessment import indicators as ind
from pipeline.assessment.coverage import DEFAULT_DISTANCE_M
from pipeline.assessment.data import Area, PeriodData, load
from pipeline.assessment.period import Period
from pipeline.assessment.plans import PatrolPlan
from pipeline.classes import m2_to_mu
from pipeline.ledger.calendar import WorkCalendar


@dataclass
class Assessment:
    period: Period
    area: Area
    as_of: date
    indicators: list[ind.Indicator]
    counts: dict[str, Any] = field(default_factory=dict)
    data: PeriodData | None = None

    def indicator(self, key: str) -> ind.Indicator:
        return next(i for i in self.indicators if i.key == key)

    def as_dict(self) -> dict[str, Any]:
        p = self.period
        return {"period": {"kind": p.kind, "label": p.label, "from": p.start.isoformat(),
                           "to": p.end.isoformat(), "as_of": self.as_of.isoformat()},
                "area": self.area.as_dict(), "indicators": [i.as_dict() for i in self.indicators],
                "counts": self.counts}


def counts(d: PeriodData, cal: WorkCalendar) -> dict[str, Any]:
    """How many leads, cases, steps and patrols the period holds (each by its own date)."""
    from pipeline.ledger.overdue import report_overdue

    cases = ind.illegal_cases(d)
    codes = {lead["code"] for lead in d.leads}
    patrols = [p for p in d.patrols if d.within(p["day"])]
    illegal_m2 = sum(float(c["area_m2"] or 0.0) for c in cases)
    farm = sum(ind.farmland_m2(c["zones"]) for c in cases)
    basic = sum(float(z.get("area_m2") or 0.0) for c in cases for z in c["zones"] or []
                if isinstance(z, dict) and z.get("zone_type") == "permanent_basic_farmland")
    return {
        "leads": len(d.leads),
        "by_source": dict(Counter(lead["source"] for lead in d.leads)),
        "by_status": dict(Counter(lead["status"] for lead in d.leads)),
        "by_zone_level": dict(Counter("none" if lead.get("zone_level") is None else str(lead["zone_level"])
                                      for lead in d.leads)),
        "new": sum(d.within(lead["first_seen"]) for lead in d.leads),
        "verified": sum(d.within(lead["verified_on"]) for lead in d.leads),
        "illegal": len(cases),
        "stopped": sum(d.within(lead["stopped_on"]) for lead in d.leads),
        "filed": sum(d.within(lead["filed_on"]) for lead in d.leads),
        "closed": sum(d.within(lead["closed_on"]) for lead in d.leads),
        "overdue": sum(o["code"] in codes for o in report_overdue(d.leads, d.as_of, cal)),
        "patrols": len(patrols),
        "zero_reports": sum(bool(p["zero_report"]) for p in patrols),
        "illegal_area_m2": illegal_m2,
        "illegal_area_mu": m2_to_mu(illegal_m2),
        "illegal_farmland_m2": farm,
        "illegal_farmland_mu": m2_to_mu(farm),
        "illegal_basic_farmland_m2": basic,
        "illegal_basic_farmland_mu": m2_to_mu(basic),
    }


def assess(conn: Connection, period: Period, area: Area, today: date, cal: WorkCalendar,
           plan: PatrolPlan | None = None, coverage_m: float = DEFAULT_DISTANCE_M) -> Assessment:
    d = load(conn, period, area, today)
    return Assessment(period, area, d.as_of, ind.compute(d, cal, plan, coverage_m), counts(d, cal), d)
