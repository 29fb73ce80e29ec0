"""The assessment indicators, each defined as the rules define it (the one place they are).

Every indicator answers a :class:`Indicator`: ``value`` is ``numerator / denominator`` (or a mean)
and is ``None`` with a ``reason`` when the period holds nothing to measure, never 0. Each says
which date puts a lead in it (``counted_by``): what happened in the period counts, so a 2026
report counts 2026 work on leads seen on older imagery. ``ledger stats``, ``landpatrol assess``
and the periodic reports all read these functions.

Sources: 《自然资源执法监督规定》 and the county dynamic-patrol rules (动态巡查制度) for the
patrol share, stop and filing rates; the ministry's annual satellite-inspection notice
(卫片执法工作通知) for 履职/查处/整改到位率; 《省级政府耕地保护责任目标考核办法》 for the 15%
farmland red line (违法占用耕地面积占新增建设用地占用耕地面积的比例).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.assessment.coverage import DEFAULT_DISTANCE_M, zone_coverage
from pipeline.assessment.data import PeriodData
from pipeline.assessment.plans import PatrolPlan
from pipeline.classes import m2_to_mu
from pipeline.ledger.calendar import WorkCalendar

FARMLAND = ("permanent_basic_farmland", "general_farmland")
PATROL_SOURCES = ("patrol",)
IMAGERY_SOURCES = ("imagery", "drone")
#: illegal leads this bureau need not file itself (closed on the spot, handed on, not filed)
NOT_TO_FILE = ("corrected_on_spot", "transferred", "not_filed")


@dataclass
class Indicator:
    key: str
    name_zh: str
    value: float | None
    threshold: float | None
    ok: bool | None
    numerator: float | None
    denominator: float | None
    counted_by: str
    unit: str = "ratio"
    higher_is_better: bool = True
    reason: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ratio(key: str, name: str, num: float, den: float, threshold: float | None, counted_by: str,
           empty: str, higher_is_better: bool = True, unit: str = "ratio") -> Indicator:
    if den == 0:
        return Indicator(key, name, None, threshold, None, num, den, counted_by, unit,
                         higher_is_better, reason=empty)
    value = num / den
    ok = None if threshold is None else (value >= threshold if higher_is_better else value < threshold)
    return Indicator(key, name, value, threshold, ok, num, den, counted_by, unit, higher_is_better)


def illegal_cases(d: PeriodData) -> list[dict[str, Any]]:
    """Leads verified illegal on a day of the period: the cases (违法案件) of the period."""
    return [lead for lead in d.leads if lead["outcome"] == "illegal" and d.within(lead["verified_on"])]


def found_by_patrol(lead: dict[str, Any]) -> bool:
    return lead["source"] in PATROL_SOURCES or (lead["source"] in IMAGERY_SOURCES and lead["on_patrol"])


def patrol_share(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """动态巡查发现率 (share of cases found by dynamic patrol). Numerator: cases of the period
    found by a field patrol, or found on imagery (on-line patrol, 网上巡查) and confirmed on a
    patrol (the verification names a patrol, or a patrol record lists the lead). Denominator:
    all cases of the period, whatever found them (hotline, informants, media, referrals, the
    ministry's inspection). Counted by verification date. Threshold >= 0.60."""
    cases = illegal_cases(d)
    return _ratio("patrol_share", "动态巡查发现率", sum(found_by_patrol(c) for c in cases), len(cases),
                  0.60, "verified_on", "no lead verified illegal in the period")


def stopped(lead: dict[str, Any]) -> bool:
    return lead["stopped_on"] is not None or lead["disposal"] == "corrected_on_spot"


def stop_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """制止率 (stop rate). Numerator: cases of the period stopped by the period's end (a stop
    notice issued, or the act corrected on the spot). Denominator: cases of the period.
    Counted by verification date. Threshold 1.00."""
    cases = illegal_cases(d)
    return _ratio("stop_rate", "制止率", sum(stopped(c) for c in cases), len(cases), 1.0,
                  "verified_on", "no lead verified illegal in the period")


def filing_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """立案率 (filing rate). Numerator: cases of the period filed (立案) by the period's end.
    Denominator: cases of the period that must be filed here: all but those corrected on the
    spot, transferred (移送) or not filed with a recorded reason (不予立案), unless filed anyway.
    Counted by verification date. Threshold 1.00."""
    due = [c for c in illegal_cases(d) if c["filed_on"] is not None or c["disposal"] not in NOT_TO_FILE]
    return _ratio("filing_rate", "立案率", sum(c["filed_on"] is not None for c in due), len(due), 1.0,
                  "verified_on", "no case of the period had to be filed")


def closure_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """结案率 (closure rate). Numerator: cases filed in the period and closed (结案) by its end.
    Denominator: cases filed in the period. Counted by filing date. No threshold."""
    filed = [lead for lead in d.leads if d.within(lead["filed_on"])]
    return _ratio("closure_rate", "结案率", sum(f["closed_on"] is not None for f in filed), len(filed),
                  None, "filed_on", "no case filed in the period")


def violation_patch(p: dict[str, Any]) -> bool:
    """An inspection patch judged a violation (its 举证 judgment, else its lead's outcome)."""
    judgment = str(p.get("judgment") or "")
    if judgment:
        return judgment.startswith(("违法", "illegal"))
    return p.get("outcome") == "illegal"


def _present(value: Any) -> bool:
    return value is not None and value == value and value != ""  # not None, NaN or empty


def _batch_rate(d: PeriodData, key: str, name: str, threshold: float, done: Callable[[dict[str, Any]], bool]) -> Indicator:
    patches = [p for p in d.batch_patches if violation_patch(p)]
    ind = _ratio(key, name, sum(done(p) for p in patches), len(patches), threshold, "inspection batch",
                 "no violation patch in a satellite-inspection batch issued in the period")
    batches: dict[str, list[dict[str, Any]]] = {}
    for p in patches:
        batches.setdefault(p["batch"], []).append(p)
    ind.details = [{"batch": b, "violations": len(ps), "done": sum(done(p) for p in ps),
                    "rate": sum(done(p) for p in ps) / len(ps)} for b, ps in sorted(batches.items())]
    return ind


def performance_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """履职到位率: violation patches of the satellite-inspection batches issued in the period
    that the county had found itself before the batch (imagery, patrol, reports) and stopped
    (a stop notice, or corrected on the spot), over the batches' violation patches. Counted by
    the batch's issue date; ``details`` per batch. Threshold 0.95."""
    return _batch_rate(d, "performance_rate", "履职到位率", 0.95,
                       lambda p: bool(p["found_by_landpatrol"]) and _present(p["notice_no"]))


def investigation_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """查处到位率: violation patches of the period's batches whose case was filed (立案), over
    the batches' violation patches. Counted by the batch's issue date. Threshold 0.95."""
    return _batch_rate(d, "investigation_rate", "查处到位率", 0.95, lambda p: _present(p["case_no"]))


def rectification_rate(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """整改到位率: violation patches of the period's batches rectified (拆除复耕, 没收, 补办手续:
    a rectification recorded in the 举证, or the lead rectified or closed after a case), over the
    batches' violation patches. Counted by the batch's issue date. Threshold 0.90."""
    return _batch_rate(d, "rectification_rate", "整改到位率", 0.90,
                       lambda p: _present(p["rectified_on"]) or _present(p["rectification"])
                       or p["status"] in ("rectified",) or (p["status"] == "closed" and _present(p["case_no"])))


def farmland_m2(zones: list[Any] | None) -> float:
    return sum(float(z.get("area_m2") or 0.0) for z in zones or []
               if isinstance(z, dict) and z.get("zone_type") in FARMLAND)


def farmland_red_line(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """违法占用耕地比例 (the 15% red line). Numerator: farmland area (mu; permanent basic and
    general farmland pieces as screening measured them) of the leads verified illegal in the
    period. Denominator: all farmland taken by new construction in the period (mu): those
    illegal leads, the leads verified legal (construction with its approval), and the changes
    wholly covered by approvals recorded in the period. Counted by verification date (approved
    changes by the day their run was recorded). Alarm at 0.15: ok while below."""
    illegal = sum(farmland_m2(c["zones"]) for c in illegal_cases(d))
    legal = sum(farmland_m2(lead["zones"]) for lead in d.leads
                if lead["outcome"] == "legal" and d.within(lead["verified_on"]))
    approved = sum(farmland_m2(a["zones"]) for a in d.approved)
    ind = _ratio("farmland_red_line", "违法占用耕地比例", m2_to_mu(illegal),
                 m2_to_mu(illegal + legal + approved), 0.15, "verified_on",
                 "no farmland taken by new construction in the period", higher_is_better=False)
    ind.unit = "ratio (mu / mu)"
    return ind


def _mean_days(key: str, name: str, d: PeriodData, cal: WorkCalendar, end_key: str,
               counted_by: str) -> Indicator:
    spans = [cal.working_days_between(lead["first_seen"], lead[end_key]) for lead in d.leads
             if lead["source"] in IMAGERY_SOURCES and d.within(lead[end_key])]
    if not spans:
        return Indicator(key, name, None, None, None, 0, 0, counted_by, "working days", False,
                         reason=f"no imagery lead with {counted_by} in the period")
    return Indicator(key, name, sum(spans) / len(spans), None, None, sum(spans), len(spans),
                     counted_by, "working days", False)


def days_to_discovery(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """发现时效: mean working days from the imagery date to the day the lead entered the ledger,
    over imagery leads discovered in the period. Counted by discovery date."""
    return _mean_days("days_to_discovery", "发现时效", d, cal, "discovered_on", "discovered_on")


def days_to_stop(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """制止时效: mean working days from the imagery date to the stop notice, over imagery leads
    stopped in the period. Counted by the stop notice's date."""
    return _mean_days("days_to_stop", "制止时效", d, cal, "stopped_on", "stopped_on")


def days_to_report(d: PeriodData, cal: WorkCalendar) -> Indicator:
    """报告时效: mean working days from the imagery date to the violation report, over imagery
    leads reported in the period. Counted by the report's date."""
    return _mean_days("days_to_report", "报告时效", d, cal, "reported_on", "reported_on")


def frequency_rows(d: PeriodData, plan: PatrolPlan) -> list[dict[str, Any]]:
    done: dict[int, int] = {}
    zeros: dict[int, int] = {}
    for p in d.patrols:
        if p["patrol_zone_id"] is not None and d.within(p["day"]):
            done[p["patrol_zone_id"]] = done.get(p["patrol_zone_id"], 0) + 1
            zeros[p["patrol_zone_id"]] = zeros.get(p["patrol_zone_id"], 0) + bool(p["zero_report"])
    rows = []
    for z in d.zones:
        need = plan.required(z["level"], d.period.start, d.as_of)
        n = done.get(z["id"], 0)
        rows.append({"code": z["code"], "name": z["name"], "level": z["level"], "unit": z["unit"],
                     "required": need, "patrols": n, "zero_reports": zeros.get(z["id"], 0),
                     "shortfall": None if need is None else max(need - n, 0)})
    return rows


def patrol_frequency_compliance(d: PeriodData, cal: WorkCalendar, plan: PatrolPlan | None = None) -> Indicator:
    """巡查频次达标率: responsibility zones patrolled at least as often as their level's minimum
    (raised in key periods, see :mod:`pipeline.assessment.plans`) over the zones with a rule.
    Each patrol record counts against its zone, zero reports included. Counted by the China day
    the patrol started; a running period is measured up to today. Threshold 1.00; ``details``
    lists every zone with its required and done patrols and the shortfall."""
    rows = frequency_rows(d, plan or PatrolPlan())
    ruled = [r for r in rows if r["required"] is not None]
    ind = _ratio("patrol_frequency_compliance", "巡查频次达标率", sum(r["shortfall"] == 0 for r in ruled),
                 len(ruled), 1.0, "patrol started", "no responsibility zone with a patrol rule")
    ind.details = rows
    return ind


def patrol_coverage(d: PeriodData, cal: WorkCalendar, distance_m: float = DEFAULT_DISTANCE_M) -> Indicator:
    """巡查覆盖率: area of the responsibility zones within ``distance_m`` of the period's patrol
    routes over their whole area (m2, in the zones' UTM CRS). Counted by the China day the
    patrol started. No threshold; ``details`` gives each zone's share."""
    routes = [p["route"] for p in d.patrols if d.within(p["day"])]
    rows = zone_coverage(d.zones, routes, distance_m)
    ind = _ratio("patrol_coverage", "巡查覆盖率", sum(r["covered_m2"] for r in rows),
                 sum(r["area_m2"] for r in rows), None, "patrol started",
                 "no responsibility zone in the area", unit=f"area share within {distance_m:g} m")
    ind.details = rows
    return ind


ALL = (patrol_share, stop_rate, filing_rate, closure_rate, performance_rate, investigation_rate,
       rectification_rate, farmland_red_line, days_to_discovery, days_to_stop, days_to_report)


def compute(d: PeriodData, cal: WorkCalendar, plan: PatrolPlan | None = None,
            coverage_m: float = DEFAULT_DISTANCE_M) -> list[Indicator]:
    """Every indicator for the period's data, in the order reports print them."""
    out = [fn(d, cal) for fn in ALL]
    out.append(patrol_frequency_compliance(d, cal, plan))
    out.append(patrol_coverage(d, cal, coverage_m))
    return out
