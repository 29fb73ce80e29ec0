"""Patrol records in the browser: a patrol with its route (clicked on the map or tracked by the
phone) and its findings, and the zero report (巡查零报告) of a patrol that found nothing.

Both go through :meth:`Ledger.record_patrol` (>= 2 personnel, event ``patrol_recorded``); a
phone syncing a record made offline sends ``X-Sync: 1`` and a ``submission_key`` and the ledger
records it once.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from shapely.geometry import LineString, mapping

from pipeline.errors import InputError, LedgerError
from pipeline.web.access import OPEN_FOR_FIELD, visible_leads, visible_zone_codes
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.field import CHINA
from pipeline.web.forms import Problem, names, when
from pipeline.web.i18n import error_text, lang_of, translator
from pipeline.web.pages import render
from pipeline.web.today import sheet_view
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = ("location", "situation", "stop_measures", "effect", "follow_up", "project", "party")


def _route(value: str) -> LineString | None:
    """A route from the form: JSON ``[[lon, lat], ...]`` (map clicks or the phone's track)."""
    if not value or not value.strip():
        return None
    try:
        points = [(float(p[0]), float(p[1])) for p in json.loads(value)]
    except (ValueError, TypeError, IndexError, KeyError):
        raise Problem("err_route") from None
    if len(points) < 2 or not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in points):
        raise Problem("err_route")
    return LineString(points)


def _patrol(form: dict[str, Any], zone: str) -> dict[str, Any]:
    people = names(form.get("personnel", ""))
    if len(people) < 2:
        raise Problem("err_patrol_personnel")
    start = when(form.get("started_at"))
    if start is None:
        raise Problem("err_date", value="")
    end = when(form.get("ended_at"))
    if end is not None and end < start:
        raise Problem("err_end")
    out: dict[str, Any] = {"started_at": start, "ended_at": end, "personnel": ",".join(people),
                           "zone_code": zone, "route": _route(form.get("route", "")),
                           "lead_codes": list(form.get("leads", []))}
    for key in TEXT_FIELDS:
        out[key] = (form.get(key) or "").strip() or None
    return out


async def _values(request: Request) -> dict[str, Any]:
    data = await request.form()
    values: dict[str, Any] = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    values["leads"] = [v for v in data.getlist("leads") if isinstance(v, str)]
    return values


def _open_codes(s: Settings, user: User, zone: str) -> list[dict[str, Any]]:
    frame = visible_leads(s.ledger, user, zone=zone)
    frame = frame[frame["status"].isin(OPEN_FOR_FIELD + ("verified",))]
    return [{"code": r["code"], "status": r["status"], "assignee": r.get("assignee")}
            for r in frame.to_dict("records")]


def patrol_view(request: Request, s: Settings, user: User, zone: str | None, *,
                form: dict[str, Any] | None = None, error: str | None = None,
                status_code: int = 200) -> Response:
    zones = visible_zone_codes(s.ledger, user)
    zone = zone if zone in zones else (zones[0] if zones else None)
    outline = s.ledger.patrol_zones((zone,)) if zone else []
    return render(request, "patrol.html", {
        "user": user, "zone": zone, "zones": zones, "form": form or {}, "error": error,
        "leads": _open_codes(s, user, zone) if zone else [],
        "outline": mapping(outline[0]["geometry"]) if outline else None,
        "now": datetime.now(CHINA).strftime("%Y-%m-%dT%H:%M")}, status_code=status_code)


@router.get("/patrols/new")
def new_patrol(request: Request, zone: str | None = None, user: User = Depends(page_user),
               s: Settings = Depends(settings)) -> Response:
    if not user.may_verify:
        raise HTTPException(403, "analysts do not record patrols")
    return patrol_view(request, s, user, zone)


def _save(request: Request, s: Settings, user: User, form: dict[str, Any], zero: bool) -> Response:
    check_csrf(request, form.get("csrf_token"))
    zone = form.get("zone", "")
    if zone not in visible_zone_codes(s.ledger, user):
        raise HTTPException(404, "no such responsibility zone")
    if not user.may_verify:
        raise HTTPException(403, "analysts do not record patrols")
    sync = request.headers.get("x-sync") == "1"
    lang = lang_of(request)
    t = translator(lang)
    try:
        values = _patrol(form, zone)
        if zero:
            values.update(route=None, lead_codes=[], situation=None)
        pid = s.ledger.record_patrol(key=(form.get("submission_key") or "").strip()[:100] or None,
                                     by=user.name, **values)
    except (Problem, InputError, LedgerError) as exc:
        message = exc.sentence(t, lang) if isinstance(exc, Problem) else error_text(exc, lang)
        if sync:
            return JSONResponse({"ok": False, "error": message}, status_code=422)
        view = sheet_view if zero else patrol_view
        return view(request, s, user, zone, form=form, error=message, status_code=422)
    if sync:
        return JSONResponse({"ok": True, "duplicate": pid is None})
    return RedirectResponse(f"/sheet?zone={quote(zone)}&saved=1", status_code=303)


@router.post("/patrols")
async def record_patrol(request: Request, user: User = Depends(page_user),
                        s: Settings = Depends(settings)) -> Response:
    """A patrol with route and findings (no findings: a zero report)."""
    return _save(request, s, user, await _values(request), zero=False)


@router.post("/sheet/zero-report")
async def zero_report(request: Request, user: User = Depends(page_user),
                      s: Settings = Depends(settings)) -> Response:
    """Record that a team patrolled its zone and found nothing new."""
    return _save(request, s, user, await _values(request), zero=True)
