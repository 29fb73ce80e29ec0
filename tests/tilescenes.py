"""A region of three Sentinel-2-like tiles of two dates, two of them in UTM 50N, one in 51N,
with changes planted across a tile edge and in the overlap of two tiles.

Tiles (240 x 240 px, 10 m, 4 bands blue/green/red/nir, named ``T<tile>_<date>.tif``):

- ``50SQA`` (west) and ``50SQB`` (east of it) in EPSG:32650 touch along one edge, no overlap;
- ``51STA`` in EPSG:32651 (the next UTM zone, its grid turned ~1.6 degrees against the others)
  overlaps ``50SQB``'s east side by about 600 m.

Changes (a bright roof on the after date), in EPSG:32650 metres (:data:`CHANGES`):

- ``edge``: across the 50SQA | 50SQB edge, half in each: one change, seen in two parts;
- ``overlap``: inside the 50SQB / 51STA overlap: seen whole by both tiles;
- ``cut_b``: across 50SQB's east edge, inside 51STA: 50SQB sees a part, 51STA the whole;
- ``cut_c``: across 51STA's west edge, inside 50SQB: 51STA sees a part, 50SQB the whole;
- ``alone``: inside 50SQA only.

Everything lies in one level-1 permanent-basic-farmland zone, so each change is one lead.
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio.features
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from shapely.geometry import box, mapping

from tests.scenes import RES, SIZE, _farmland, _write

Y0 = 3_545_000.0                  # top of the tiles in EPSG:32650 (latitude ~32.0)
X_A = 776_000.0                   # west edge of 50SQA (longitude ~119.9)
X_B = X_A + SIZE * RES            # 50SQA | 50SQB edge
X_B_END = X_B + SIZE * RES        # east edge of 50SQB
OVERLAP_M = 600.0
DATES = ("2024-03-01", "2024-06-01")


def _c_origin() -> tuple[float, float]:
    """51STA's upper-left corner in EPSG:32651: its west edge OVERLAP_M west of 50SQB's east
    edge (at mid-height), its top a little above the others' (its grid is turned)."""
    to51 = Transformer.from_crs(32650, 32651, always_xy=True)
    x, _ = to51.transform(X_B_END - OVERLAP_M, Y0 - SIZE * RES / 2)
    _, y = to51.transform(X_B_END - OVERLAP_M, Y0)
    return float(round(x)), float(round(y) + 200)


TILES = {
    "50SQA": (32650, (X_A, Y0)),
    "50SQB": (32650, (X_B, Y0)),
    "51STA": (32651, _c_origin()),
}

CHANGES = {  # EPSG:32650 boxes (minx, miny, maxx, maxy)
    "edge": (X_B - 150.0, Y0 - 600.0, X_B + 150.0, Y0 - 400.0),
    "overlap": (X_B_END - 400.0, Y0 - 1400.0, X_B_END - 200.0, Y0 - 1200.0),
    "cut_b": (X_B_END - 100.0, Y0 - 2000.0, X_B_END + 100.0, Y0 - 1800.0),
    "cut_c": (X_B_END - OVERLAP_M - 100.0, Y0 - 900.0, X_B_END - OVERLAP_M + 100.0, Y0 - 700.0),
    "alone": (X_A + 500.0, Y0 - 1500.0, X_A + 700.0, Y0 - 1300.0),
}


def change_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": list(CHANGES)}, geometry=[box(*b) for b in CHANGES.values()],
                            crs=32650)


def true_area_m2(name: str) -> float:
    """Ellipsoidal area of a planted change (m2)."""
    from pyproj import Geod

    geom = change_frame().set_index("name").to_crs(4326).geometry[name]
    return abs(Geod(ellps="WGS84").geometry_area_perimeter(geom)[0])


def write_tiles(folder: Path, tiles: dict[str, tuple[int, tuple[float, float]]] | None = None,
                seed: int = 0) -> dict[str, list[Path]]:
    """Both dates of every tile under ``folder``; returns tile id -> [before, after]."""
    folder.mkdir(parents=True, exist_ok=True)
    changes = change_frame()
    out: dict[str, list[Path]] = {}
    for k, (tile, (epsg, origin)) in enumerate(sorted((tiles or TILES).items())):
        rng = np.random.default_rng(seed + k)
        before = _farmland(rng)
        after = before * 1.03 + rng.normal(0, 0.004, before.shape)
        transform = Affine(RES, 0, origin[0], 0, -RES, origin[1])
        shapes = [mapping(g) for g in changes.to_crs(epsg).geometry]
        planted = rasterio.features.rasterize([(s, 1) for s in shapes], out_shape=(SIZE, SIZE),
                                              transform=transform, dtype="uint8").astype(bool)
        roof = np.array([0.25, 0.27, 0.29, 0.30])[:, None]
        after[:, planted] = roof + rng.normal(0, 0.005, (4, int(planted.sum())))
        paths = []
        for day, refl in zip(DATES, (before, after)):
            path = folder / f"T{tile}_{day.replace('-', '')}.tif"
            _write(path, refl, day, CRS.from_epsg(epsg), origin)
            paths.append(path)
        out[tile] = paths
    return out


def write_region(root: Path, *, stac: bool = False, detector: str = "cva") -> Path:
    """The region folder (or, with ``stac``, an ItemCollection JSON beside its layers)."""
    paths = write_tiles(root / "tiles")
    everything = box(X_A - 1000, Y0 - SIZE * RES - 1000, X_B_END + 3000, Y0 + 1000)
    zones = gpd.GeoDataFrame([{"zone_id": "Z1", "zone_type": "permanent_basic_farmland", "level": 1,
                               "unit": "城东镇国土所", "name": "跨景永久基本农田"}],
                             geometry=[everything], crs=32650).to_crs(4326)
    zones.to_file(root / "zones.geojson", driver="GeoJSON")
    (root / "region.yaml").write_text(f"name: kuajing\ncode: KJ\ndetector: {detector}\n",
                                      encoding="utf-8")
    if not stac:
        return root
    features = []
    for tile, pair in paths.items():
        for day, path in zip(DATES, pair):
            features.append({
                "type": "Feature", "stac_version": "1.0.0", "id": f"S2B_{tile}_{day.replace('-', '')}_L2A",
                "properties": {"datetime": f"{day}T02:30:00Z", "s2:mgrs_tile": tile},
                "geometry": None, "links": [],
                "assets": {"visual": {"href": f"tiles/{path.name}", "roles": ["data"],
                                      "type": "image/tiff; application=geotiff"}}})
    items = root / "kuajing.json"
    items.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return items
