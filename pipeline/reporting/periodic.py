"""Periodic reports (月报, 季度/半年分析, 年度总结): figures, HTML, PDF.

:func:`figures` reads everything a report prints in one read transaction: the indicators of
:mod:`pipeline.assessment` (the same as ``landpatrol assess``), the figures of ``ledger stats``,
the monthly trend, the tables and the ledger's chain head. The template prints only from that
dict, and each printed number is there as the string printed (``shown``), so the figures JSON
holds exactly the numbers of the PDF.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.assessment.data import Area
from pipeline.assessment.period import CHINA, NAMES_ZH, Period
from pipeline.assessment.plans import PatrolPlan

COUNTED_BY_ZH = {"verified_on": "按核查日期计入", "filed_on": "按立案日期计入", "stopped_on": "按制止日期计入",
                 "reported_on": "按报告日期计入", "discovered_on": "按发现日期计入",
                 "patrol started": "按巡查日期计入", "inspection batch": "按卫片执法批次计算"}
STEP_ZH = {"violation report": "违法行为报告", "follow-up of the correction deadline": "限期改正复查",
           "reply to the reporter": "答复举报人"}


def shown(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    return f"{float(value):.1f}" if unit == "working days" else f"{100 * float(value):.1f}%"


def _n(value: Any) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{float(value):.2f}"


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _lead_row(lead: dict[str, Any], *keys: str) -> dict[str, Any]:
    row = {"code": lead["code"], "source": lead["source"], "status": lead["status"],
           "area_mu": f"{float(lead['area_mu'] or 0):.2f}"}
    row.update({k: _iso(lead[k]) for k in keys})
    return row


def _indicator(i: Any) -> dict[str, Any]:
    d = i.as_dict()
    d.pop("details")
    higher = "≥" if i.higher_is_better else "<"
    d.update(shown=shown(i.value, i.unit), shown_threshold="" if i.threshold is None
             else f"{higher}{shown(i.threshold, i.unit)}", shown_ratio=f"{_n(i.numerator)} / {_n(i.denominator)}",
             counted_by_zh=("单位：工作日，" if i.unit == "working days" else "")
             + COUNTED_BY_ZH.get(i.counted_by, i.counted_by),
             verdict={True: "达标", False: "未达标", None: ""}[i.ok])
    return d


def collect(conn: Any, period: Period, area: Area, today: date, cal: Any, plan: PatrolPlan | None = None,
            coverage_m: float = 500.0) -> dict[str, Any]:
    """The figures of one report, read on ``conn`` (one read transaction)."""
    from pipeline.assessment.assess import assess
    from pipeline.ledger.events import chain_head
    from pipeline.ledger.overdue import overdue_steps
    from pipeline.ledger.stats import compute_stats

    a = assess(conn, period, area, today, cal, plan, coverage_m)
    assert a.data is not None
    d = a.data
    stats = compute_stats(conn, period.start, period.end, today, cal, region=area.region,
                          zone=area.zone, unit=area.unit).as_dict()
    trend = []
    for m in period.months():
        if m.start > a.as_of:
            break
        ma = assess(conn, m, area, today, cal, plan, coverage_m)
        trend.append({"label": m.label, **{k: ma.counts[k] for k in ("new", "illegal", "stopped", "filed",
                                                                      "patrols", "zero_reports")},
                      "patrol_share": ma.indicator("patrol_share").value,
                      "stop_rate": ma.indicator("stop_rate").value})
    for t in trend:
        t["shown_patrol_share"], t["shown_stop_rate"] = shown(t["patrol_share"], ""), shown(t["stop_rate"], "")
    codes = {lead["code"] for lead in d.leads}
    overdue = [o | {"due": _iso(o["due"]), "step_zh": STEP_ZH.get(o["step"], o["step"])}
               for o in overdue_steps(conn, a.as_of, cal) if o["code"] in codes]
    freq = a.indicator("patrol_frequency_compliance").details
    cover = {r["code"]: r for r in a.indicator("patrol_coverage").details}
    patrols = [r | {"coverage": shown(cover[r["code"]]["share"], "") if r["code"] in cover else "—"} for r in freq]
    head = chain_head(conn)
    now = datetime.now(CHINA)
    area_name = " ".join(x for x in (area.region, area.unit, area.zone) if x) or "全域"
    return {
        "title": f"{area_name} {period.title_zh}动态巡查{NAMES_ZH[period.kind]}报告",
        "period": {"kind": period.kind, "label": period.label, "from": period.start.isoformat(),
                   "to": period.end.isoformat(), "title_zh": period.title_zh, "due": _iso(period.due)},
        "area": area.as_dict(), "as_of": a.as_of.isoformat(),
        "generated_at": now.isoformat(timespec="seconds"),
        "indicators": [_indicator(i) for i in a.indicators],
        "counts": a.counts, "stats": stats, "trend": trend,
        "tables": {
            "new": [_lead_row(x, "first_seen") for x in d.leads if d.within(x["first_seen"])],
            "stopped": [_lead_row(x, "stopped_on") | {"notice_no": x["notice_no"]} for x in d.leads
                        if d.within(x["stopped_on"])],
            "filed": [_lead_row(x, "filed_on") | {"case_no": x["case_no"]} for x in d.leads if d.within(x["filed_on"])],
            "overdue": overdue, "patrols": patrols,
        },
        "chain_head": {"event_id": head.event_id, "hash": head.hash, "events": head.events},
        "_map": {"zones": d.zones, "leads": d.leads},
    }


def render(figs: dict[str, Any]) -> str:
    """The report's HTML (charts embedded as PNG)."""
    from pipeline.reporting.charts import leads_map, trend_chart
    from pipeline.reporting.pdf import render_html

    public = {k: v for k, v in figs.items() if not k.startswith("_")}
    charts = {"trend": trend_chart(figs["trend"]) if figs["trend"] else None,
              "map": leads_map(figs["_map"]["zones"], figs["_map"]["leads"])}
    return render_html("periodic.html", {"f": public, "charts": charts})


def public(figs: dict[str, Any]) -> dict[str, Any]:
    """The figures as the JSON file holds them."""
    return {k: v for k, v in figs.items() if not k.startswith("_")}


def write_report(figs: dict[str, Any], output: Path, json_out: Path | None = None,
                 html_out: Path | None = None) -> Path:
    """Write the PDF (and the figures JSON, the HTML) of a report; checks every path first."""
    import json

    from pipeline.errors import OutputError
    from pipeline.reporting.pdf import html_to_pdf

    for p in (output, json_out, html_out):
        if p is not None and (p.is_dir() or not p.parent.exists()):
            raise OutputError(p, "cannot write there (a folder, or its folder is missing)")
    html = render(figs)
    html_to_pdf(html, output)
    if json_out is not None:
        json_out.write_text(json.dumps(public(figs), ensure_ascii=False, indent=2, default=str) + "\n",
                            encoding="utf-8")
    if html_out is not None:
        html_out.write_text(html, encoding="utf-8")
    return output
