"""Today's sheet: the user's own dispatched targets first, in a route with ellipsoidal legs,
then the zone's other dispatched leads; leads not yet dispatched are a separate list for
supervisors. The route (own targets, then the others) downloads as GPX and KML."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipeline.timeutil import china_now
from pipeline.web.access import (
    OPEN_FOR_FIELD,
    team_members,
    visible_leads,
    visible_zone_codes,
)
from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.field import patrols_on
from pipeline.web.pages import render
from pipeline.web.sheet import attachment_header, order_route, to_gpx, to_kml
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)


@dataclass
class Sheet:
    zone: str | None
    zones: list[str]
    mine: list[dict[str, Any]] = field(default_factory=list)
    team: list[dict[str, Any]] = field(default_factory=list)
    undispatched: list[dict[str, Any]] = field(default_factory=list)

    @property
    def route(self) -> list[dict[str, Any]]:
        return self.mine + self.team

    @property
    def route_km(self) -> float:
        return sum(float(t["leg_m"]) for t in self.route) / 1000.0


def build_sheet(s: Settings, user: User, zone: str | None) -> Sheet:
    zones = visible_zone_codes(s.ledger, user)
    zone = zone if zone in zones else (zones[0] if zones else None)
    if zone is None:
        return Sheet(None, zones)
    frame = visible_leads(s.ledger, user, zone=zone)
    frame = frame[frame["status"].isin(OPEN_FOR_FIELD)]
    rows = [{k: v for k, v in r.items() if k != "geometry"} for r in frame.to_dict("records")]
    dispatched = [r for r in rows if r["status"] == "dispatched"]
    own = [r for r in dispatched if user.name in team_members(r.get("assignee"))]
    mine = order_route(own)
    start = (float(mine[-1]["centroid_lon"]), float(mine[-1]["centroid_lat"])) if mine else None
    team = order_route([r for r in dispatched if r not in own], start)
    waiting = [] if user.role == "patrol" else order_route([r for r in rows if r["status"] == "new"])
    return Sheet(zone, zones, mine, team, waiting)


@router.get("/sheet")
def sheet(request: Request, zone: str | None = None, user: User = Depends(page_user),
          s: Settings = Depends(settings)) -> Response:
    return sheet_view(request, s, user, zone)


def sheet_view(request: Request, s: Settings, user: User, zone: str | None, *,
               form: dict[str, Any] | None = None, error: str | None = None,
               status_code: int = 200) -> Response:
    got = build_sheet(s, user, zone)
    now = china_now()
    return render(request, "sheet.html", {
        "user": user, "zone": got.zone, "zones": got.zones, "sheet": got,
        "today": now.date().isoformat(), "now": now.strftime("%Y-%m-%dT%H:%M"), "form": form or {},
        "patrols": patrols_on(s.ledger, got.zone, now.date()) if got.zone else [],
        "saved": request.query_params.get("saved") == "1" and error is None, "error": error},
        status_code=status_code)


def _route_file(s: Settings, user: User, zone: str | None, fmt: str) -> Response:
    """Today's route of ``zone`` as a GPX or KML download for field GPS units."""
    got = build_sheet(s, user, zone)
    name = f"{got.zone or 'none'}-{china_now().date().isoformat()}"
    body, media = ((to_gpx(got.route, name), "application/gpx+xml") if fmt == "gpx"
                   else (to_kml(got.route, name), "application/vnd.google-earth.kml+xml"))
    return Response(body, media_type=media,
                    headers={"Content-Disposition": attachment_header(name, fmt)})


@router.get("/sheet.gpx")
def sheet_gpx(zone: str | None = None, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    return _route_file(s, user, zone, "gpx")


@router.get("/sheet.kml")
def sheet_kml(zone: str | None = None, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    return _route_file(s, user, zone, "kml")
