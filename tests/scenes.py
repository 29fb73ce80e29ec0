"""A synthetic region with planted changes, for exact end-to-end expectations.

A 4-band (blue, green, red, nir) uint16 Sentinel-2-like pair at 10 m in UTM 50N: farmland
everywhere (vegetated, with mild noise and a small illumination difference between dates),
with three planted 30 x 30 px changes on the after date:

- ``BUILDING``: a bright, non-vegetated roof inside the level-1 permanent-basic-farmland zone;
- ``OUTSIDE``: the same kind of change where no zone lies;
- ``APPROVED``: the same kind of change wholly inside an approval.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from shapely.geometry import box

CRS_UTM = CRS.from_epsg(32650)
ORIGIN = (660000.0, 3550000.0)  # upper-left corner (x, y)
RES = 10.0
SIZE = 240
BUILDING = (40, 40)    # (row, col) of the planted changes' upper-left pixel
OUTSIDE = (40, 170)
APPROVED = (170, 40)
SIDE = 30


@dataclass(frozen=True)
class Scene:
    before: Path
    after: Path
    zones: Path
    approvals: Path
    pixel_area: float = RES * RES


def _px_box(row: int, col: int, rows: int, cols: int):
    x0, y0 = ORIGIN
    return box(x0 + col * RES, y0 - (row + rows) * RES, x0 + (col + cols) * RES, y0 - row * RES)


def _farmland(rng: np.random.Generator) -> np.ndarray:
    """(4, SIZE, SIZE) reflectance of vegetated farmland with field-to-field variation."""
    base = np.array([0.04, 0.07, 0.05, 0.35])[:, None, None]
    fields = rng.normal(0, 0.01, (4, SIZE // 20, SIZE // 20)).repeat(20, 1).repeat(20, 2)
    return base + fields + rng.normal(0, 0.004, (4, SIZE, SIZE))


def _write(path: Path, refl: np.ndarray, date: str, crs: CRS = CRS_UTM,
           origin: tuple[float, float] = ORIGIN) -> None:
    dn = np.clip(refl * 10000, 1, 65535).astype("uint16")
    profile = dict(driver="GTiff", width=SIZE, height=SIZE, count=4, dtype="uint16",
                   crs=crs, transform=Affine(RES, 0, origin[0], 0, -RES, origin[1]),
                   tiled=True, blockxsize=128, blockysize=128, compress="deflate", nodata=0)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(dn)
        for i, name in enumerate(("blue", "green", "red", "nir"), start=1):
            dst.set_band_description(i, name)
        dst.update_tags(TIFFTAG_DATETIME=f"{date.replace('-', ':')} 10:30:00")


def _geojson(path: Path, features: list[tuple[object, dict]], crs: CRS) -> None:
    import geopandas as gpd

    frame = gpd.GeoDataFrame([p for _, p in features], geometry=[g for g, _ in features], crs=crs)
    frame.to_file(path, driver="GeoJSON")


def make_scene(root: Path, *, seed: int = 0, zones_crs: int = 4326) -> Scene:
    """Write the pair, zones (in ``zones_crs``) and approvals under ``root``; return their paths."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    before = _farmland(rng)
    after = before * 1.03 + rng.normal(0, 0.004, before.shape)  # illumination + noise
    roof = np.array([0.25, 0.27, 0.29, 0.30])[:, None, None]
    for row, col in (BUILDING, OUTSIDE, APPROVED):
        after[:, row:row + SIDE, col:col + SIDE] = roof + rng.normal(0, 0.005, (4, SIDE, SIDE))
    scene = Scene(root / "S2_20240301_before.tif", root / "S2_20240601_after.tif",
                  root / "zones.geojson", root / "approvals.geojson")
    _write(scene.before, before, "2024-03-01")
    _write(scene.after, after, "2024-06-01")
    farmland = _px_box(10, 10, 110, 110)        # holds BUILDING, not OUTSIDE
    south = _px_box(140, 10, 90, 110)            # holds APPROVED
    zones = [
        (farmland, {"zone_id": "Z1", "zone_type": "permanent_basic_farmland", "level": 1,
                    "unit": "城东镇国土所", "name": "城东永久基本农田"}),
        (south, {"zone_id": "Z2", "zone_type": "general_farmland", "level": 2,
                 "unit": "城东镇国土所", "name": "城南一般耕地"}),
    ]
    approvals = [(_px_box(APPROVED[0] - 5, APPROVED[1] - 5, SIDE + 10, SIDE + 10),
                  {"approval_no": "苏政地〔2024〕12号", "approved_use": "工业用地",
                   "approved_on": "2024-01-15"})]
    import geopandas as gpd

    def reproject(items):
        frame = gpd.GeoSeries([g for g, _ in items], crs=CRS_UTM).to_crs(zones_crs)
        return [(g, p) for g, (_, p) in zip(frame, items)]

    _geojson(scene.zones, reproject(zones), CRS.from_epsg(zones_crs))
    _geojson(scene.approvals, reproject(approvals), CRS.from_epsg(zones_crs))
    return scene


def planted_area() -> float:
    return SIDE * SIDE * RES * RES



def pair_request(scene: Scene, ledger_url: str, **kw: object):  # -> PairRequest
    """A run of the scene's pair in region testville (code TV); ``kw`` overrides any field."""
    from pipeline.runner import PairRequest

    args = {"before": scene.before, "after": scene.after, "zones": scene.zones,
            "approvals": scene.approvals, "ledger_url": ledger_url, "region": "testville",
            "region_code": "TV"}
    return PairRequest(**(args | kw))
