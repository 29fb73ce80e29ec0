"""Clues from people (12336 hotline, informants, media, referrals from above) registered in
the browser with their location picked on the map; through :meth:`Ledger.report_lead`, so a
clue at the spot of an open lead merges into it instead of opening a twin."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from shapely.geometry import Point, mapping
from shapely.ops import unary_union

from pipeline.errors import InputError, LedgerError
from pipeline.web.access import visible_leads, visible_zone_codes
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.forms import Problem, coord, day
from pipeline.web.i18n import error_text, lang_of, translator
from pipeline.web.pages import render
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
CLUE_SOURCES = ("hotline", "informant", "media", "referral")


def _regions(s: Settings, user: User) -> list[str]:
    frame = visible_leads(s.ledger, user)
    return sorted({str(r) for r in frame["region"] if isinstance(r, str)})


def clue_view(request: Request, s: Settings, user: User, *, form: dict[str, Any] | None = None,
              error: str | None = None, status_code: int = 200) -> Response:
    codes = tuple(visible_zone_codes(s.ledger, user))
    zones = s.ledger.patrol_zones(codes) if codes else []
    outline = mapping(unary_union([z["geometry"] for z in zones])) if zones else None
    return render(request, "clue.html", {
        "user": user, "form": form or {}, "error": error, "sources": CLUE_SOURCES,
        "regions": _regions(s, user), "outline": outline}, status_code=status_code)


@router.get("/clues/new")
def new_clue(request: Request, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    if not user.may_register_clues:
        raise HTTPException(403, "clues are registered by supervisors and analysts")
    return clue_view(request, s, user)


@router.post("/clues")
async def register_clue(request: Request, user: User = Depends(page_user),
                        s: Settings = Depends(settings)) -> Response:
    data = await request.form()
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf_token"))
    if not user.may_register_clues:
        raise HTTPException(403, "clues are registered by supervisors and analysts")
    lang = lang_of(request)
    t = translator(lang)
    try:
        source = form.get("source", "")
        if source not in CLUE_SOURCES:
            raise Problem("err_source")
        region = form.get("region", "")
        if region not in _regions(s, user):
            raise Problem("err_region")
        lon, lat = coord(form.get("lon"), -180, 180), coord(form.get("lat"), -90, 90)
        if lon is None or lat is None:
            raise Problem("err_location")
        where = Point(lon, lat)
        if not user.sees_all and s.ledger.zone_at(where) not in user.zones:
            raise Problem("err_outside")
        got = s.ledger.report_lead(region=region, source=source, geometry=where, by=user.name,
                                   reported_on=day(form.get("reported_on")),
                                   description=(form.get("description") or "").strip() or None,
                                   party=(form.get("party") or "").strip() or None)
    except (Problem, InputError, LedgerError) as exc:
        message = exc.sentence(t, lang) if isinstance(exc, Problem) else error_text(exc, lang)
        return clue_view(request, s, user, form=form, error=message, status_code=422)
    note = "merged=1" if got.merged else "saved=1"
    return RedirectResponse(f"/leads/{quote(got.code)}?{note}", status_code=303)
