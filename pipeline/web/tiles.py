"""Full-resolution imagery as XYZ tiles (EPSG:3857, 256 px) from a run's COGs, behind the
app's own sign-in: ``before.tif`` and ``after.tif`` (true colour) and ``score.tif`` (change
score 0..1), read window by window with rio-tiler, so a Sentinel-2 scene of 10,980 px shows
every pixel at street zoom instead of one downsampled picture.

An analyst gets any tile of any run; a supervisor or patrol member only tiles that touch
their responsibility zones, with the pixels outside those zones transparent (404 for a tile
wholly outside). Run folders are found by name under ``runs_dir``; no path comes from a URL.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
LAYERS = {"before": "before.tif", "after": "after.tif", "score": "score.tif"}
TILE = 256
SCORE_COLOURS = "inferno"


@dataclass(frozen=True)
class RunTiles:
    run: str
    folder: Path
    layers: tuple[str, ...]
    bounds: tuple[float, float, float, float]  # west, south, east, north (EPSG:4326)
    minzoom: int
    maxzoom: int

    def as_json(self) -> dict[str, Any]:
        return {"run": self.run, "layers": list(self.layers), "bounds": list(self.bounds),
                "minzoom": self.minzoom, "maxzoom": self.maxzoom,
                "urls": {w: f"/tiles/{self.run}/{w}/{{z}}/{{x}}/{{y}}.png" for w in self.layers}}


@lru_cache(maxsize=256)
def _info(path: Path, mtime: float) -> tuple[tuple[float, float, float, float], int, int] | None:
    from rasterio.errors import RasterioIOError
    from rio_tiler.io import Reader

    try:
        with Reader(str(path)) as src:
            return tuple(src.get_geographic_bounds("EPSG:4326")), src.minzoom, src.maxzoom
    except (RasterioIOError, ValueError):
        return None


def run_tiles(folder: Path) -> RunTiles | None:
    """The tile layers of one run folder (those of its COGs that open), ``None`` if none."""
    found, bounds, zooms = [], None, (99, 0)
    for which, name in LAYERS.items():
        path = folder / name
        if not path.is_file():
            continue
        info = _info(path, path.stat().st_mtime)
        if info is None:
            continue
        found.append(which)
        bounds = bounds or info[0]
        zooms = (min(zooms[0], info[1]), max(zooms[1], info[2]))
    if not found or bounds is None:
        return None
    return RunTiles(folder.name, folder, tuple(found), bounds, zooms[0], zooms[1])


def find_run_tiles(runs_dir: Path | None) -> dict[str, RunTiles]:
    if runs_dir is None or not runs_dir.is_dir():
        return {}
    out = {}
    for p in sorted(runs_dir.iterdir()):
        if p.is_dir() and not p.name.startswith("."):
            t = run_tiles(p)
            if t is not None:
                out[t.run] = t
    return out


def zone_area(s: Settings, user: User) -> Any:
    """The union of the user's responsibility zones in EPSG:3857; ``None`` for an analyst."""
    if user.sees_all:
        return None
    import numpy as np
    import shapely
    from pyproj import Transformer

    zones = s.ledger.patrol_zones(user.zones) if user.zones else []
    if not zones:
        return shapely.Polygon()
    merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    return shapely.transform(shapely.union_all([z["geometry"] for z in zones]),
                             lambda xy: np.column_stack(merc.transform(xy[:, 0], xy[:, 1])))


def _confine(img: Any, area: Any, bounds: Any) -> None:
    """Make the pixels of ``img`` outside ``area`` (EPSG:3857) transparent."""
    import numpy as np
    from rasterio.features import geometry_mask
    from rasterio.transform import from_bounds

    outside = geometry_mask([area], out_shape=(img.height, img.width),
                            transform=from_bounds(*bounds, img.width, img.height))
    img.array.mask = np.ma.getmaskarray(img.array) | outside[None, :, :]


def render_tile(path: Path, which: str, z: int, x: int, y: int, area: Any) -> bytes | None:
    """PNG bytes of tile z/x/y of one COG, ``None`` when the tile shows nothing to this user."""
    import morecantile
    from rio_tiler.colormap import cmap
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader
    from shapely.geometry import box

    bounds = morecantile.tms.get("WebMercatorQuad").xy_bounds(morecantile.Tile(x, y, z))
    if area is not None and not area.intersects(box(*bounds)):
        return None
    try:
        with Reader(str(path)) as src:
            if which == "score":
                # the file's scale turns stored steps into the score (pipeline.io.scoreraster)
                img = src.tile(x, y, z, tilesize=TILE, indexes=1, unscale=True)
                img.rescale(in_range=((0.0, 1.0),))
                colours = cmap.get(SCORE_COLOURS)
            else:
                img = src.tile(x, y, z, tilesize=TILE, indexes=(1, 2, 3))
                colours = None
    except TileOutsideBounds:
        return None
    if area is not None:
        _confine(img, area, bounds)
    return img.render(img_format="PNG", colormap=colours)


@router.get("/tiles.json")
def tiles_json(_: User = Depends(page_user), s: Settings = Depends(settings)) -> list[dict[str, Any]]:
    return [t.as_json() for t in find_run_tiles(s.runs_dir).values()]


@router.get("/tiles/{run}/{which}/{z}/{x}/{y}.png")
def tile(run: str, which: str, z: int, x: int, y: int, user: User = Depends(page_user),
         s: Settings = Depends(settings)) -> Response:
    found = find_run_tiles(s.runs_dir).get(run)
    if found is None or which not in found.layers or not 0 <= z <= 24:
        raise HTTPException(404, "no such tile layer")
    if not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise HTTPException(404, "no such tile")
    body = render_tile(found.folder / LAYERS[which], which, z, x, y, zone_area(s, user))
    if body is None:
        raise HTTPException(404, "no tile here for this user")
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
