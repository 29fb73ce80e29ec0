"""Checks a pair must pass before anything is written: dates that can be true, two different
tiles, zones that meet the scene. Each refusal is an :class:`~pipeline.errors.InputError`
naming the file or option at fault.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import shapely

from pipeline.errors import ConfigError, TileError, ZoneError
from pipeline.i18n import msg

CHINA_TZ = ZoneInfo("Asia/Shanghai")

#: the first day a sensor could have seen anything (launch), by sensor profile name
SENSOR_FIRST_DAY: dict[str, date] = {
    "sentinel2": date(2015, 6, 23),    # Sentinel-2A launch
    "landsat-tm": date(1982, 7, 16),   # Landsat 4
    "landsat-etm": date(1999, 4, 15),  # Landsat 7
    "landsat-oli": date(2013, 2, 11),  # Landsat 8
}
#: no date before the first aerial surveys is believable, whatever the sensor
EARLIEST_DAY = date(1950, 1, 1)


def china_today() -> date:
    return datetime.now(CHINA_TZ).date()


def check_tile_date(tile: Any, option: str, today: date | None = None) -> None:
    """A tile's date must not lie in the future (China time) nor before its sensor existed."""
    day, first = tile.acquired, SENSOR_FIRST_DAY.get(str(tile.sensor), EARLIEST_DAY)
    if day > (today or china_today()):
        raise TileError(tile.path, msg("input.date_in_future", day=day, option=option))
    if day < first:
        raise TileError(tile.path, msg("input.date_before_sensor", day=day, option=option, sensor=tile.sensor,
                                       first=first))


def check_order(before: Any, after: Any, own_before: date | None, own_after: date | None) -> None:
    """``--before`` must be the earlier tile: by the dates used, and by the tiles' own dates."""
    if before.acquired == after.acquired:
        raise ConfigError(after.path, msg("input.pair_same_date", day=after.acquired))
    if after.acquired < before.acquired:
        raise ConfigError(after.path, msg("input.after_before_before", after=after.acquired,
                                          before=before.acquired))
    if own_before is not None and own_after is not None and own_after < own_before:
        raise ConfigError(after.path, msg("input.dates_contradict", before=own_before, after=own_after))


def check_distinct(before_path: Path, after_path: Path, before_hash: str, after_hash: str) -> None:
    """The same tile (path or content) twice is not a pair."""
    if Path(before_path).resolve() == Path(after_path).resolve() or before_hash == after_hash:
        raise TileError(after_path, msg("input.same_tile", before=before_path))


def check_footprint(zones: gpd.GeoDataFrame, grid: Any, zones_path: Path, before: Path,
                    after: Path) -> None:
    """Some zone must meet the pair's footprint (``zones`` in the grid CRS), or no lead can."""
    left, bottom, right, top = grid.bounds
    box = shapely.box(left, bottom, right, top)
    if not zones.geometry.intersects(box).any():
        raise ZoneError(zones_path, msg("input.zones_off_footprint", before=before, after=after))


def frame_digest(frame: gpd.GeoDataFrame | None) -> str | None:
    """sha256 of a layer as read (geometries and standard columns): what a run screened with."""
    if frame is None:
        return None
    h = hashlib.sha256()
    h.update(str(frame.crs).encode())
    for col in [c for c in frame.columns if c != frame.geometry.name]:
        h.update(col.encode())
        h.update(repr(frame[col].tolist()).encode("utf-8", "surrogateescape"))
    for wkb in shapely.to_wkb(frame.geometry.values, output_dimension=2):
        h.update(wkb)
    return h.hexdigest()

