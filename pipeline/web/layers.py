"""Outline layers of the web map: responsibility zones (from the ledger), protected zones and
approvals (``layers/*.geojson`` of the run folders), as GeoJSON in EPSG:4326.

A supervisor or patrol member gets their own responsibility zones and the protected zones and
approvals that touch them; an analyst everything. The optional intranet basemap
(``$LANDPATROL_BASEMAP_URL``, an XYZ template) is only passed to the page: none by default,
and the server never fetches from outside.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

from pipeline import settings as settings_module
from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
BASEMAP_ENV = settings_module.BASEMAP_ENV
OUTLINES = ("zones", "approvals")


def basemap_url(configured: str | None = None) -> str | None:
    """The intranet basemap's XYZ URL template, if one is configured; ``None`` otherwise."""
    url = (configured or settings_module.load().basemap_url or "").strip()
    return url if url.startswith(("http://", "https://", "/")) and "{z}" in url else None


def _features(runs_dir: Path | None, name: str) -> list[dict[str, Any]]:
    if runs_dir is None or not runs_dir.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for path in sorted(runs_dir.glob(f"*/layers/{name}.geojson")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        out.extend(f for f in doc.get("features", []) if f.get("geometry"))
    return out


def map_layers(s: Settings, user: User) -> dict[str, dict[str, Any]]:
    codes = None if user.sees_all else user.zones
    zones = s.ledger.patrol_zones(codes) if codes is None or codes else []
    area = None if user.sees_all else unary_union([z["geometry"] for z in zones]) if zones else None
    out: dict[str, dict[str, Any]] = {"patrol_zones": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": mapping(z["geometry"]),
         "properties": {"code": z["code"], "name": z["name"], "level": z["level"]}} for z in zones]}}
    for name in OUTLINES:
        feats = _features(s.runs_dir, name)
        if not user.sees_all:
            feats = [f for f in feats if area is not None and shape(f["geometry"]).intersects(area)]
        out[name] = {"type": "FeatureCollection", "features": feats}
    return out


@router.get("/layers.json")
def layers(user: User = Depends(page_user), s: Settings = Depends(settings)) -> dict[str, Any]:
    return map_layers(s, user)
