"""Check a monitored region without running it: every path and file a scheduled run will read.

``landpatrol schedule --check`` calls :func:`check_region` for each region of the schedules
file, so a wrong path, an unreadable tile or a zone layer with missing columns shows the day
the schedule is written, not at 06:00 the next morning. Nothing is written anywhere: the
ledger and ``out`` folders are checked for existence and permissions only.
"""
from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import ConfigError, InputError, OutputError, ZoneError
from pipeline.i18n import msg
from pipeline.region import Region, load_region

#: columns of a responsibility-zone layer (``flows.monitor_region`` writes them to the ledger)
PATROL_ZONE_COLUMNS = ("code", "level", "persons")


def check_region(path: Path) -> tuple[Region | None, list[InputError]]:
    """The region and every problem found with it (an empty list: it will run)."""
    if not path.exists():
        return None, [ConfigError(path, msg("check.region_missing"))]
    try:
        region = load_region(path)  # region.yaml, tiles folder, zones layer present, dates
    except InputError as exc:
        return None, [exc]
    problems: list[InputError] = []
    problems += _tiles(region)
    problems += _layers(region)
    return region, problems


def _tiles(region: Region) -> list[InputError]:
    from pipeline.io.tiles import open_tile

    found: list[InputError] = []
    for entry in region.tiles:
        try:
            open_tile(entry.path, sensor=entry.sensor or region.sensor, acquired=entry.acquired)
        except InputError as exc:
            found.append(exc)
    return found


def _column_map(region: Region) -> Path | None:
    value = (region.config or {}).get("columns")
    if not value:
        return None
    base = region.root if region.root.is_dir() else region.root.parent
    return Path(value) if Path(value).is_absolute() else base / value


def _layers(region: Region) -> list[InputError]:
    from pipeline.zones import load_approvals, load_column_map, load_zones

    found: list[InputError] = []
    columns = None
    cmap = _column_map(region)
    if cmap is not None:
        try:
            columns = load_column_map(cmap)
        except InputError as exc:
            found.append(exc)
    checks = [(load_zones, region.zones_path)]
    if region.approvals_path is not None:
        checks.append((load_approvals, region.approvals_path))
    for load, layer in checks:
        try:
            load(layer, columns=columns)
        except InputError as exc:
            found.append(exc)
    if region.patrol_zones_path is not None:
        found += _patrol_zones(region.patrol_zones_path)
    return found


def _patrol_zones(path: Path) -> list[InputError]:
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises its own errors
        return [ZoneError(path, msg("check.patrol_unreadable", detail=exc.__class__.__name__))]
    missing = [c for c in PATROL_ZONE_COLUMNS if c not in frame.columns]
    if missing:
        return [ZoneError(path, msg("check.patrol_columns", columns=", ".join(missing)))]
    if frame.crs is None:
        return [ZoneError(path, msg("check.patrol_no_crs"))]
    return []


def check_destinations(ledger: str | None, out: Path | None) -> list[InputError]:
    """A SQLite ledger's folder and the ``out`` folder (or its nearest existing parent) must
    exist and be writable; other ledger URLs are only reached at run time."""
    found: list[InputError] = []
    if ledger and ledger.startswith("sqlite:///"):
        folder = Path(ledger.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            found.append(ConfigError(ledger, msg("check.ledger_no_dir", folder=folder)))
        elif not os.access(folder, os.W_OK | os.X_OK):
            found.append(ConfigError(ledger, msg("check.ledger_not_writable", folder=folder)))
    if out is not None:
        existing = out
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            found.append(OutputError(out, msg("check.out_not_writable", existing=existing)))
    return found
