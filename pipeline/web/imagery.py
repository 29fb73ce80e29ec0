"""The run's own imagery under the map: ``<runs>/<run>/overlay_{before,after}.png`` (true
colour, warped to EPSG:3857) with ``overlay.json`` (``bounds`` [[south, west], [north, east]],
``before_date``, ``after_date``, ``run``), as the runner writes them. No internet tiles.

Imagery is not zone-restricted (a whole scene shows no lead), but it is served to signed-in
users only, and only from published run folders (:func:`pipeline.rundirs.run_folders`, never
a staging folder) that hold a valid ``overlay.json`` (no path from a URL).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from pipeline.rundirs import run_folders
from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
WHICH = ("before", "after")


@dataclass(frozen=True)
class Overlay:
    run: str
    folder: Path
    bounds: tuple[tuple[float, float], tuple[float, float]]  # (south, west), (north, east)
    before_date: str | None
    after_date: str | None

    def contains(self, lon: float, lat: float) -> bool:
        (s, w), (n, e) = self.bounds
        return s <= lat <= n and w <= lon <= e

    def as_json(self) -> dict[str, Any]:
        from pipeline.web.tiles import run_tiles

        tiles = run_tiles(self.folder)
        return {"run": self.run, "bounds": [list(self.bounds[0]), list(self.bounds[1])],
                "before_date": self.before_date, "after_date": self.after_date,
                "before_url": f"/imagery/{self.run}/before.png",
                "after_url": f"/imagery/{self.run}/after.png",
                "tiles": None if tiles is None else tiles.as_json()}


def _read(folder: Path) -> Overlay | None:
    meta = folder / "overlay.json"
    if not meta.is_file() or not all((folder / f"overlay_{w}.png").is_file() for w in WHICH):
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        (s, w), (n, e) = data["bounds"]
        bounds = ((float(s), float(w)), (float(n), float(e)))
    except (ValueError, KeyError, TypeError):  # a half-written or foreign file: no imagery
        return None
    return Overlay(folder.name, folder, bounds, data.get("before_date"), data.get("after_date"))


def find_overlays(runs_dir: Path | None) -> list[Overlay]:
    """Run folders with imagery, newest pair first (by after date, then folder time)."""
    found = [o for o in (_read(p) for p in run_folders(runs_dir)) if o is not None]
    return sorted(found, key=lambda o: (o.after_date or "", (o.folder / "overlay.json").stat().st_mtime),
                  reverse=True)


def overlays_at(runs_dir: Path | None, lon: float, lat: float) -> list[Overlay]:
    """The overlays that cover a point, newest first."""
    return [o for o in find_overlays(runs_dir) if o.contains(lon, lat)]


@router.get("/imagery.json")
def imagery(_: User = Depends(page_user), s: Settings = Depends(settings)) -> list[dict[str, Any]]:
    return [o.as_json() for o in find_overlays(s.runs_dir)]


@router.get("/imagery/{run}/{which}.png")
def imagery_png(run: str, which: str, _: User = Depends(page_user),
                s: Settings = Depends(settings)) -> Response:
    if which not in WHICH:
        raise HTTPException(404, "no such image")
    for o in find_overlays(s.runs_dir):
        if o.run == run:
            return FileResponse(o.folder / f"overlay_{which}.png", media_type="image/png",
                                headers={"Cache-Control": "private, max-age=3600"})
    raise HTTPException(404, "no such run imagery")
