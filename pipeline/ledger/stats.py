"""Figures supervisors are judged on, for a period and an area, drawn from the ledger.

The numbers are those of :mod:`pipeline.assessment` (one definition each, see
:mod:`pipeline.assessment.indicators`): a lead is in the period when work on it happened in
the period (discovered, verified, stopped, filed or closed), rates are over the cases verified
illegal in the period, the patrol share counts imagery leads confirmed on a patrol, and the
illegally occupied farmland share divides by all farmland taken by new construction (mu).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from pipeline.ledger.calendar import WorkCalendar


@dataclass
class Stats:
    start: date
    end: date
    region: str | None
    zone: str | None
    unit: str | None = None
    leads: int = 0
    new: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    by_zone_level: dict[str, int] = field(default_factory=dict)
    illegal: int = 0
    stopped: int = 0
    filed: int = 0
    closed: int = 0
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
    farmland_taken_mu: float = 0.0
    illegal_farmland_share: float | None = None
    overdue: int = 0
    patrols: int = 0
    zero_reports: int = 0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"] = self.start.isoformat(), self.end.isoformat()
        return d


def compute_stats(conn: Connection, start: date, end: date, today: date, calendar: WorkCalendar,
                  region: str | None = None, zone: str | None = None, unit: str | None = None) -> Stats:
    from pipeline.assessment.assess import assess
    from pipeline.assessment.data import Area
    from pipeline.assessment.indicators import IMAGERY_SOURCES
    from pipeline.assessment.period import span

    a = assess(conn, span(start, end), Area(region=region, unit=unit, zone=zone), today, calendar)
    c = a.counts
    out = Stats(start=start, end=end, region=region, zone=zone, unit=unit)
    for key in ("leads", "new", "by_source", "by_status", "by_zone_level", "illegal", "stopped",
                "filed", "closed", "overdue", "patrols", "zero_reports", "illegal_area_m2",
                "illegal_farmland_m2", "illegal_farmland_mu", "illegal_basic_farmland_m2",
                "illegal_basic_farmland_mu"):
        setattr(out, key, c[key])
    out.stop_rate = a.indicator("stop_rate").value
    out.filing_rate = a.indicator("filing_rate").value
    out.closure_rate = a.indicator("closure_rate").value
    out.share_patrol = a.indicator("patrol_share").value
    red = a.indicator("farmland_red_line")
    out.illegal_farmland_share, out.farmland_taken_mu = red.value, float(red.denominator or 0.0)
    imagery = sum(out.by_source.get(s, 0) for s in IMAGERY_SOURCES)
    out.share_imagery = None if out.leads == 0 else imagery / out.leads
    return out
