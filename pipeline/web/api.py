"""The JSON API under ``/api/`` (OpenAPI at ``/docs``): tokens and leads, for provincial systems.

``GET /api/leads`` answers a GeoJSON FeatureCollection (EPSG:4326) of the leads the caller may
see; ``GET /api/leads/{code}`` one lead with its history; a lead outside the caller's zones is 404.
"""
from __future__ import annotations

from typing import Any

import shapely
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import status as http
from fastapi.security import OAuth2PasswordRequestForm

from pipeline.ledger import STATES
from pipeline.web import auth
from pipeline.web.access import jsonable_row, lead_for, visible_leads
from pipeline.web.deps import Settings, api_user, settings
from pipeline.web.users import User, as_user

router = APIRouter(prefix="/api", tags=["api"])


@router.post("/token")
def token(request: Request, form: OAuth2PasswordRequestForm = Depends(),
          s: Settings = Depends(settings)) -> dict[str, str]:
    """OAuth2 password flow: an expiring bearer token for a user name and password
    (429 after repeated wrong passwords, see :mod:`pipeline.web.throttle`)."""
    client = request.client.host if request.client else "-"
    s.throttle.check(form.username, client)
    user = as_user(s.ledger.authenticate(form.username, form.password))
    if user is None:
        s.throttle.failed(form.username, client)
        raise HTTPException(http.HTTP_401_UNAUTHORIZED, "wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    s.throttle.succeeded(form.username)
    return {"access_token": auth.issue(s.secret, user.name, "api", s.token_ttl,
                                       version=user.session_version),
            "token_type": "bearer"}


@router.get("/me")
def me(user: User = Depends(api_user)) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "zones": list(user.zones)}


def leads_geojson(frame: Any) -> dict[str, Any]:
    features = []
    for row in frame.to_dict("records"):
        geom = row.get("geometry")
        features.append({"type": "Feature", "id": row["code"],
                         "geometry": None if geom is None else shapely.geometry.mapping(geom),
                         "properties": jsonable_row(row)})
    return {"type": "FeatureCollection", "features": features}


@router.get("/leads")
def list_leads(status: str | None = None, zone: str | None = None, level: int | None = None,
               overdue: bool | None = None, team: str | None = None, user: User = Depends(api_user),
               s: Settings = Depends(settings)) -> dict[str, Any]:
    """Leads the caller may see as GeoJSON; filters: status, zone (responsibility zone code),
    level (zone level), overdue (report deadline passed), team (an assignee, or one member's name)."""
    wanted = status
    if wanted is not None and wanted not in STATES:
        raise HTTPException(422, f"unknown status '{wanted}' (one of {', '.join(STATES)})")
    frame = visible_leads(s.ledger, user, status=wanted, zone=zone, level=level, overdue=overdue,
                          team=team)
    return leads_geojson(frame)


@router.get("/leads/{code}")
def get_lead(code: str, user: User = Depends(api_user), s: Settings = Depends(settings)) -> dict[str, Any]:
    lead = lead_for(s.ledger, user, code)
    if lead is None:
        raise HTTPException(http.HTTP_404_NOT_FOUND, "no such lead")
    out = jsonable_row({k: v for k, v in lead.items() if k not in ("observations", "legality")})
    for key in ("observations", "verifications", "stop_notices", "reports", "cases", "attachments"):
        out[key] = [jsonable_row(r) for r in lead.get(key, [])]
    out["legality"] = jsonable_row(lead.get("legality") or {})
    out["geometry"] = shapely.geometry.mapping(lead["geometry"])
    out["history"] = [jsonable_row(e) for e in s.ledger.history(code)]
    return out
