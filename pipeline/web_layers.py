"""What a run leaves for the web map at full resolution: ``before.tif`` and ``after.tif``, the
true colour of both dates as COGs on the pair grid (uint8 RGB, stretched with the percentiles
the quicklook uses, transparent outside the data), and ``layers/zones.geojson`` /
``layers/approvals.geojson``, the region's outlines over the pair (EPSG:4326), drawn as map
layers. Read and written window by window, so a Sentinel-2 scene never sits in memory whole.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

WINDOW_PX = 1024
COG_DEFLATE_LEVEL = 1
"""zlib level of the true-colour COGs: level 1 writes a Sentinel-2 date several times faster
than the default 6 for files a few percent larger; the pixels are the same."""


def stretch_limits(before: np.ndarray, after: np.ndarray, low: float = 2.0,
                   high: float = 98.0) -> list[tuple[float, float]]:
    """Per band (lo, hi) percentiles shared by both dates (as :func:`pipeline.evidence.stretch_pair`)."""
    out = []
    for band in range(3):
        values = np.concatenate([before[..., band].ravel(), after[..., band].ravel()])
        values = values[np.isfinite(values)]
        lo, hi = (np.percentile(values, [low, high]) if values.size else (0.0, 1.0))
        out.append((float(lo), max(float(hi), float(lo) + 1e-9)))
    return out


def _scaled(bands: dict[str, np.ndarray], roles: tuple[str, ...], limits: list[tuple[float, float]]) -> np.ndarray:
    stack = np.stack([bands[r] for r in roles]).astype(np.float32)
    out = np.zeros((4, *stack.shape[1:]), np.uint8)
    for i, (lo, hi) in enumerate(limits):
        out[i] = np.nan_to_num(np.clip((stack[i] - lo) / (hi - lo), 0, 1) * 254 + 1, nan=0.0).astype(np.uint8)
    out[3] = np.where(np.isfinite(stack).all(axis=0), 255, 0)
    return out


def write_true_colour(reader: Any, grid: Any, roles: tuple[str, ...], limits: list[tuple[float, float]],
                      path: Path) -> None:
    """The grid's true colour from ``reader`` (a :class:`pipeline.align.TileReader`) as a COG."""
    import rasterio
    from rasterio.shutil import copy
    from rasterio.windows import Window

    tmp = path.with_suffix(".tmp.tif")
    # the temporary is not compressed (the COG copy compresses once, on every core)
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=4, dtype="uint8",
                   crs=grid.crs, transform=grid.transform, tiled=True, blockxsize=512,
                   blockysize=512, photometric="RGB", alpha="YES", BIGTIFF="IF_SAFER")
    with rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, grid.height, WINDOW_PX):
            for c0 in range(0, grid.width, WINDOW_PX):
                win = Window(c0, r0, min(WINDOW_PX, grid.width - c0), min(WINDOW_PX, grid.height - r0))
                bands, _ = reader.read(win, 0)
                dst.write(_scaled(bands, roles, limits), window=win)
    try:
        copy(tmp, path, driver="COG", compress="deflate", level=COG_DEFLATE_LEVEL,
             overview_resampling="average", num_threads="ALL_CPUS")
    finally:
        tmp.unlink(missing_ok=True)


def write_outlines(zones: gpd.GeoDataFrame | None, approvals: gpd.GeoDataFrame | None, grid: Any,
                   folder: Path) -> None:
    """The zones and approvals that touch the pair, clipped to it, as GeoJSON in EPSG:4326."""
    from shapely.geometry import box

    extent = box(*grid.bounds)
    out = folder / "layers"
    for name, frame in (("zones", zones), ("approvals", approvals)):
        if frame is None or not len(frame):
            continue
        local = frame[frame.intersects(extent)]
        if not len(local):
            continue
        keep = [c for c in local.columns if c != "geometry" and local[c].dtype.kind in "iufbO"]
        clipped = gpd.GeoDataFrame(local[keep].astype(str), geometry=local.geometry.intersection(extent),
                                   crs=local.crs).to_crs("EPSG:4326")
        out.mkdir(exist_ok=True)
        (out / f"{name}.geojson").write_text(clipped.to_json(drop_id=True), encoding="utf-8")
