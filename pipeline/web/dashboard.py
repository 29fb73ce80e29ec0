"""The supervisors' dashboard (考核看板): this month's and this year's indicators against their
thresholds, the monthly trend, zones behind on patrols, overdue steps, and the periodic reports
as PDF downloads. Analysts see the whole ledger, supervisors their zones; patrol members get 403.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from pipeline.assessment import period as periods
from pipeline.assessment.data import Area
from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
PARSERS = {"monthly": periods.month, "quarterly": periods.quarter, "half-year": periods.half,
           "annual": periods.year}


PageUser = Depends(page_user)
SettingsDep = Depends(settings)


def supervisor(user: User = PageUser) -> User:
    if user.role not in ("supervisor", "analyst"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the dashboard is for supervisors and analysts")
    return user


SupervisorDep = Depends(supervisor)


def area_of(user: User) -> Area:
    return Area() if user.sees_all else Area(zones=tuple(user.zones))


def downloads(today: date) -> list[dict[str, str]]:
    """The reports a supervisor fetches: last and this month, quarter, half-year, year."""
    last = date(today.year, today.month, 1)
    prev = date(last.year - 1, 12, 1) if last.month == 1 else date(last.year, last.month - 1, 1)
    q, h = (today.month - 1) // 3 + 1, 1 if today.month <= 6 else 2
    items = [("monthly", f"{prev:%Y-%m}"), ("monthly", f"{today:%Y-%m}"), ("quarterly", f"{today.year}Q{q}"),
             ("half-year", f"{today.year}H{h}"), ("annual", str(today.year - 1)), ("annual", str(today.year))]
    out = []
    for kind, label in items:
        p = PARSERS[kind](label)
        out.append({"kind": kind, "label": label, "title": p.title_zh + periods.NAMES_ZH[kind] + "报告",
                    "due": p.due.isoformat() if p.due else "", "href": f"/dashboard/reports/{kind}/{label}.pdf"})
    return out


@router.get("/dashboard")
def dashboard(request: Request, user: User = SupervisorDep, s: Settings = SettingsDep) -> Response:
    from pipeline.reporting.charts import trend_chart
    from pipeline.reporting.pdf import FontError
    from pipeline.reporting.periodic import collect
    from pipeline.web.pages import render

    today = periods.china_today()
    area = area_of(user)

    def read(conn: Any) -> dict[str, Any]:
        month = collect(conn, periods.month(f"{today:%Y-%m}"), area, today, s.ledger.calendar)
        year = collect(conn, periods.year(today.year), area, today, s.ledger.calendar)
        visible = {lead["code"] for lead in year["_map"]["leads"]} | {lead["code"] for lead in month["_map"]["leads"]}
        return {"month": month, "year": year, "visible": visible}

    data = s.ledger.read(read)
    data["overdue"] = [o for o in s.ledger.overdue_steps(today)
                       if user.sees_all or o["code"] in data["visible"]]
    behind = [r for r in data["month"]["tables"]["patrols"] if r["shortfall"]]
    chart, chart_note = None, None
    if data["year"]["trend"]:
        try:
            chart = trend_chart(data["year"]["trend"])
        except FontError as exc:  # the figures stay; only the chart's Chinese labels need the font
            chart_note = str(exc)
    return render(request, "dashboard.html", {"user": user, "month": data["month"], "year": data["year"],
                                              "behind": behind, "overdue": data["overdue"], "chart": chart,
                                              "chart_note": chart_note, "downloads": downloads(today)})


@router.get("/dashboard/reports/{kind}/{label}.pdf")
def report_pdf(kind: str, label: str, user: User = SupervisorDep, s: Settings = SettingsDep) -> Response:
    from pipeline.errors import InputError
    from pipeline.reporting.pdf import pdf_bytes
    from pipeline.reporting.periodic import collect, render

    if kind not in PARSERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report kind {kind}")
    try:
        period = PARSERS[kind](label)
    except InputError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    today = periods.china_today()
    figs = s.ledger.read(lambda c: collect(c, period, area_of(user), today, s.ledger.calendar))
    data = pdf_bytes(render(figs))
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="landpatrol-{kind}-{label}.pdf"'})
