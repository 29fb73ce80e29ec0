"""Layers out of a batch: the patches landpatrol had not found (for improving detection)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from pipeline.errors import OutputError

DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
MISS_COLUMNS = ["patch_no", "admin_code", "area_mu", "before_date", "after_date", "note",
                "lead_code", "status", "outcome", "judgment"]


def write_misses(frame: gpd.GeoDataFrame, path: Path) -> int:
    """Write the patches of ``frame`` (a batch's patches) not found before issue; returns how many."""
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise OutputError(path, "the misses layer must be .gpkg or .geojson")
    if not path.parent.is_dir():
        raise OutputError(path, f"folder {path.parent} does not exist")
    missed = frame[~frame["found_by_landpatrol"].astype(bool)]
    out = gpd.GeoDataFrame(missed[MISS_COLUMNS].astype(object).where(missed[MISS_COLUMNS].notna(), None),
                           geometry=missed.geometry.values, crs=frame.crs)
    for col in ("before_date", "after_date"):
        out[col] = [None if v is None else str(v) for v in out[col]]
    path.unlink(missing_ok=True)
    out.to_file(path, driver=driver, engine="pyogrio")
    return len(out)
