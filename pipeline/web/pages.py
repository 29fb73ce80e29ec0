"""Server-rendered pages: login, map, lead page with the verification form, patrol sheet.

Every form post carries the CSRF token; every write goes through the ledger's lifecycle and
attachment functions in one write transaction, so it lands in the event record or not at all.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from pipeline.ledger.lifecycle import OUTCOMES, STATES, TransitionError, apply_transition
from pipeline.ledger.patrols import add_attachment
from pipeline.timeutil import CHINA, china_now, china_text, china_today
from pipeline.web import auth
from pipeline.web.access import (
    OPEN_FOR_FIELD,
    lead_for,
    visible_leads,
    visible_teams,
    visible_zone_codes,
)
from pipeline.web.deps import Settings, check_csrf, page_user, session_user, settings
from pipeline.web.field import patrols_on, personnel_text
from pipeline.web.i18n import LANG_COOKIE, class_label, class_labels, error_text, lang_of, translator
from pipeline.web.imagery import overlays_at
from pipeline.web.sheet import attachment_header, order_route, to_gpx, to_kml
from pipeline.web.uploads import check_image, read_limited
from pipeline.web.users import User, authenticate, end_sessions

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["china_time"] = china_text  # event times are UTC text: shown in China time
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    lang = lang_of(request)
    csrf = request.cookies.get(auth.CSRF_COOKIE) or auth.new_csrf()
    resp = templates.TemplateResponse(request, name, {"t": translator(lang), "lang": lang,
                                                      "cls": class_label(lang), "csrf": csrf, **ctx},
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
    user = s.ledger.read(lambda c: authenticate(c, username, password))
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
        s.ledger.write(lambda c: end_sessions(c, user.name))
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
                   "before": t("before"), "after": t("after")}})


def _lead_or_404(s: Settings, user: User, code: str) -> dict[str, Any]:
    lead = lead_for(s.ledger, user, code)
    if lead is None:
        raise HTTPException(404, "no such lead")
    return lead


def find_chip(runs_dir: Path | None, code: str) -> Path | None:
    """``<runs_dir>/<run folder>/chips/<code>.png`` of the newest run folder that has one."""
    if runs_dir is None or not runs_dir.is_dir() or "/" in code or code.startswith("."):
        return None
    found = sorted(runs_dir.glob(f"*/chips/{code}.png"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


@router.get("/leads/{code}")
def lead_page(code: str, request: Request, user: User = Depends(page_user),
              s: Settings = Depends(settings)) -> Response:
    lead = _lead_or_404(s, user, code)
    lon, lat = float(lead["centroid_lon"]), float(lead["centroid_lat"])
    overlays = [o.as_json() for o in overlays_at(s.runs_dir, lon, lat)]
    t = translator(lang_of(request))
    return render(request, "lead.html", {
        "user": user, "lead": lead, "history": s.ledger.history(code), "outcomes": OUTCOMES,
        "has_chip": find_chip(s.runs_dir, code) is not None, "overlays": overlays,
        "lead_geojson": shapely.geometry.mapping(lead["geometry"]),
        "photos": [a for a in lead.get("attachments", []) if a.get("kind") == "photo"],
        "labels": {"before": t("before"), "after": t("after")},
        "saved": request.query_params.get("saved") == "1", "error": request.query_params.get("error")})


@router.get("/leads/{code}/chip.png")
def chip(code: str, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    _lead_or_404(s, user, code)
    path = find_chip(s.runs_dir, code)
    if path is None:
        raise HTTPException(404, "no chip for this lead")
    return FileResponse(path, media_type="image/png")


def _back(code: str, error: str | None = None) -> Response:
    from urllib.parse import quote

    tail = f"?error={quote(error)}" if error else "?saved=1"
    return RedirectResponse(f"/leads/{quote(code)}{tail}", status_code=303)


@router.post("/leads/{code}/dispatch")
def dispatch(code: str, request: Request, assignee: str = Form(...), csrf_token: str | None = Form(None),
             user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    check_csrf(request, csrf_token)
    _lead_or_404(s, user, code)
    if not user.may_dispatch:
        raise HTTPException(403, "only a supervisor dispatches")
    try:
        s.ledger.transition(code, "dispatched", by=user.name, fields={"assignee": assignee})
    except TransitionError as exc:
        return _back(code, error_text(exc, lang_of(request)))
    return _back(code)


def _when(value: str | None) -> datetime | None:
    """A ``datetime-local`` form value; without a zone it is the team's clock (China time)."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"'{value}' is not a date and time") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=CHINA)



def _coord(value: str | None, lo: float, hi: float, name: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        x = float(value)
    except ValueError:
        raise HTTPException(422, f"{name} '{value}' is not a number") from None
    if not lo <= x <= hi:
        raise HTTPException(422, f"{name} {x} is out of range")
    return x


@router.post("/leads/{code}/verify")
async def verify(code: str, request: Request, outcome: str = Form(...), personnel: str = Form(...),
                 stop_measure: str = Form(""), notice_no: str = Form(""), notes: str = Form(""),
                 taken_at: str | None = Form(None), lon: str | None = Form(None),
                 lat: str | None = Form(None), photo: UploadFile | None = File(None),
                 csrf_token: str | None = Form(None), user: User = Depends(page_user),
                 s: Settings = Depends(settings)) -> Response:
    """Verified (and, for an illegal lead with a measure and notice number, stopped) plus the
    photo as an attachment, all in one write transaction."""
    check_csrf(request, csrf_token)
    _lead_or_404(s, user, code)
    if not user.may_verify:
        raise HTTPException(403, "analysts do not record verifications")
    data = await read_limited(photo, s.max_upload_bytes) if photo is not None and photo.filename else None
    suffix = check_image(data) if data else None
    when, x, y = _when(taken_at), _coord(lon, -180, 180, "longitude"), _coord(lat, -90, 90, "latitude")
    saved: Path | None = None
    fresh = False
    if data:
        digest = hashlib.sha256(data).hexdigest()
        saved = s.uploads_dir / code / f"{digest}{suffix}"
        saved.parent.mkdir(parents=True, exist_ok=True)
        fresh = not saved.exists()
        saved.write_bytes(data)
    today = china_today()

    def write(conn: Any) -> None:
        apply_transition(conn, code, "verified", user.name,
                         {"outcome": outcome, "personnel": personnel_text(personnel)},
                         notes.strip() or None, today, s.ledger.calendar)
        if outcome == "illegal" and stop_measure.strip() and notice_no.strip():
            apply_transition(conn, code, "stopped", user.name,
                             {"stop_measure": stop_measure, "notice_no": notice_no}, None, today,
                             s.ledger.calendar)
        if saved is not None:
            add_attachment(conn, code=code, path=saved, by=user.name, kind="photo", taken_at=when,
                           lon=x, lat=y)

    try:
        s.ledger.write(write)
    except Exception as exc:
        if saved is not None and fresh:  # the step was refused: keep no photo the ledger doesn't know
            saved.unlink(missing_ok=True)
        if isinstance(exc, TransitionError):
            return _back(code, error_text(exc, lang_of(request)))
        raise
    return _back(code)


def _sheet(s: Settings, user: User, zone: str | None) -> tuple[str | None, list[str], list[dict[str, Any]]]:
    zones = visible_zone_codes(s.ledger, user)
    zone = zone if zone in zones else (zones[0] if zones else None)
    if zone is None:
        return None, zones, []
    frame = visible_leads(s.ledger, user, zone=zone)
    frame = frame[frame["status"].isin(OPEN_FOR_FIELD)]
    rows = [{k: v for k, v in r.items() if k != "geometry"} for r in frame.to_dict("records")]
    return zone, zones, order_route(rows)


@router.get("/sheet")
def sheet(request: Request, zone: str | None = None, user: User = Depends(page_user),
          s: Settings = Depends(settings)) -> Response:
    zone, zones, route = _sheet(s, user, zone)
    now = china_now()
    return render(request, "sheet.html", {
        "user": user, "zone": zone, "zones": zones, "route": route, "today": now.date().isoformat(),
        "now": now.strftime("%Y-%m-%dT%H:%M"),
        "patrols": patrols_on(s.ledger, zone, now.date()) if zone else [],
        "saved": request.query_params.get("saved") == "1", "error": request.query_params.get("error")})


def _route_file(s: Settings, user: User, zone: str | None, fmt: str) -> Response:
    """Today's route of ``zone`` as a GPX or KML download for field GPS units."""
    zone, _, route = _sheet(s, user, zone)
    name = f"{zone or 'none'}-{china_today().isoformat()}"
    body, media = ((to_gpx(route, name), "application/gpx+xml") if fmt == "gpx"
                   else (to_kml(route, name), "application/vnd.google-earth.kml+xml"))
    return Response(body, media_type=media, headers={"Content-Disposition": attachment_header(name, fmt)})


@router.get("/sheet.gpx")
def sheet_gpx(zone: str | None = None, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    return _route_file(s, user, zone, "gpx")


@router.get("/sheet.kml")
def sheet_kml(zone: str | None = None, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    return _route_file(s, user, zone, "kml")
