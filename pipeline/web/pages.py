"""Server-rendered pages: login, map, lead page with the verification form, patrol sheet.

Every form post carries the CSRF token; every write goes through the ledger's lifecycle and
attachment functions in one write transaction, so it lands in the event record or not at all.
"""
from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import shapely
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline.ledger import FALSE_POSITIVE_REASONS, NEXT, OUTCOMES, STATES
from pipeline.timeutil import china_text
from pipeline.web import auth
from pipeline.web.access import (
    lead_for,
    visible_leads,
    visible_teams,
    visible_zone_codes,
)
from pipeline.web.deps import Settings, check_csrf, page_user, session_user, settings
from pipeline.web.i18n import (
    LANG_COOKIE,
    class_label,
    class_labels,
    lang_of,
    translator,
)
from pipeline.web.imagery import overlays_at
from pipeline.web.photos import photo_notes
from pipeline.web.users import User, as_user

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["china_time"] = china_text  # event times are UTC text: shown in China time
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    lang = lang_of(request)
    csrf = request.cookies.get(auth.CSRF_COOKIE) or auth.new_csrf()
    resp = templates.TemplateResponse(request, name, {"t": translator(lang), "lang": lang,
                                                      "cls": class_label(lang), "csrf": csrf,
                                                      "basemap": request.app.state.settings.basemap_url,
                                                      **ctx},
                                      status_code=status_code)
    secure = settings(request).cookie_secure(request)
    resp.set_cookie(auth.CSRF_COOKIE, csrf, httponly=True, samesite="lax", secure=secure)
    if request.query_params.get("lang") == lang:
        resp.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 86400, secure=secure)
    return resp


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", {"user": None, "error": None})


@router.post("/login")
def login(request: Request, username: str = Form(...), password: str = Form(...),
          csrf_token: str | None = Form(None), s: Settings = Depends(settings)) -> Response:
    check_csrf(request, csrf_token)
    client = request.client.host if request.client else "-"
    s.throttle.check(username, client)
    user = as_user(s.ledger.authenticate(username, password))
    if user is None:
        s.throttle.failed(username, client)
        return render(request, "login.html", {"user": None, "error": "bad_login"}, 401)
    s.throttle.succeeded(username)
    resp = RedirectResponse("/sheet" if user.role == "patrol" else "/", status_code=303)
    resp.set_cookie(auth.SESSION_COOKIE, auth.issue(s.secret, user.name, "session", s.session_ttl,
                                                    version=user.session_version),
                    httponly=True, samesite="lax", max_age=int(s.session_ttl.total_seconds()),
                    secure=s.cookie_secure(request))
    return resp


@router.post("/logout")
def logout(request: Request, csrf_token: str | None = Form(None),
           user: User | None = Depends(session_user), s: Settings = Depends(settings)) -> Response:
    """Sign out: every session and token of the account ends, here and on other devices."""
    check_csrf(request, csrf_token)
    if user is not None:
        s.ledger.end_sessions(user.name)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE, secure=s.cookie_secure(request), httponly=True,
                       samesite="lax")
    return resp


@router.get("/")
def map_page(request: Request, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    t = translator(lang_of(request))
    return render(request, "map.html", {
        "user": user, "states": STATES, "zones": visible_zone_codes(s.ledger, user),
        "teams": visible_teams(visible_leads(s.ledger, user)),
        "labels": {"class": class_labels(lang_of(request)), "status": {k: t(k) for k in STATES},
                   "mu": "亩" if lang_of(request) == "zh" else "mu", "open": t("open_lead"),
                   **layer_labels(t)}})


def layer_labels(t: Any) -> dict[str, str]:
    return {k: t(v) for k, v in (("before", "before"), ("after", "after"), ("score", "score"),
                                 ("patrol_zones", "patrol_zones"), ("zones", "zones_layer"),
                                 ("approvals", "approvals"))}


def _lead_or_404(s: Settings, user: User, code: str) -> dict[str, Any]:
    lead = lead_for(s.ledger, user, code)
    if lead is None:
        raise HTTPException(404, "no such lead")
    return lead


def find_chip(runs_dir: Path | None, code: str) -> Path | None:
    """``<runs_dir>/<run folder>/chips/<code>.png`` of the newest published run folder that has
    one (a staging folder is never looked in)."""
    from pipeline.rundirs import run_folders

    if "/" in code or "\\" in code or code.startswith("."):
        return None
    found = sorted((c for c in (f / "chips" / f"{code}.png" for f in run_folders(runs_dir))
                    if c.is_file()), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def lead_view(request: Request, s: Settings, user: User, code: str, *, form: dict[str, Any] | None = None,
              error: str | None = None, status_code: int = 200) -> Response:
    """The lead page; after a refused form, with the one-sentence ``error`` and the values typed."""
    lead = _lead_or_404(s, user, code)
    lon, lat = float(lead["centroid_lon"]), float(lead["centroid_lat"])
    overlays = [o.as_json() for o in overlays_at(s.runs_dir, lon, lat)]
    t = translator(lang_of(request))
    zone = s.ledger.patrol_zones((lead["patrol_zone"],)) if lead.get("patrol_zone") else []
    photos = [a for a in lead.get("attachments", []) if a.get("kind") == "photo"]
    nxt = [n for n in NEXT[lead["status"]] if user.may_take(n)]
    if lead["status"] == "verified" and lead.get("outcome") == "illegal":
        nxt = [n for n in nxt if n != "closed"]
    elif lead["status"] == "verified":
        nxt = [n for n in nxt if n != "stopped"]
    return render(request, "lead.html", {
        "user": user, "lead": lead, "history": s.ledger.history(code), "outcomes": OUTCOMES,
        "reasons": FALSE_POSITIVE_REASONS, "persons": zone[0]["persons"] if zone else [],
        "next_steps": nxt, "form": form or {},
        "has_chip": find_chip(s.runs_dir, code) is not None, "overlays": overlays,
        "lead_geojson": shapely.geometry.mapping(lead["geometry"]),
        "photos": photo_notes(photos, lead["geometry"]),
        "labels": layer_labels(t),
        "saved": request.query_params.get("saved") == "1" and error is None,
        "error": error}, status_code=status_code)


@router.get("/leads/{code}")
def lead_page(code: str, request: Request, user: User = Depends(page_user),
              s: Settings = Depends(settings)) -> Response:
    return lead_view(request, s, user, code, error=request.query_params.get("error"))  # e.g. 举证 form


@router.get("/leads/{code}/report")
def lead_report(code: str, request: Request, user: User = Depends(page_user),
                s: Settings = Depends(settings)) -> Response:
    """A printable page of the lead for the case file: vertices, areas, zones, approvals, sources."""
    from datetime import datetime

    lead = _lead_or_404(s, user, code)
    geom = lead["geometry"]
    rings = [list(p.exterior.coords) for p in getattr(geom, "geoms", [geom]) if hasattr(p, "exterior")]
    overlays = overlays_at(s.runs_dir, float(lead["centroid_lon"]), float(lead["centroid_lat"]))
    return render(request, "lead_report.html", {
        "user": user, "lead": lead, "vertices": [xy for ring in rings for xy in ring[:-1]],
        "overlays": [o.as_json() for o in overlays],
        "printed": china_text(datetime.now(UTC))})


@router.get("/leads/{code}/chip.png")
def chip(code: str, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    _lead_or_404(s, user, code)
    path = find_chip(s.runs_dir, code)
    if path is None:
        raise HTTPException(404, "no chip for this lead")
    return FileResponse(path, media_type="image/png")


