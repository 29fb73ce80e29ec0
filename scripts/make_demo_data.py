"""Build the demo region ``data/demo/nanjing/`` (tiles, zones, approval) from Landsat 5 TM.

Usage::

    python scripts/make_demo_data.py [--src ../shared/data/landsat/Nanjing]
                                     [--out data/demo/nanjing] [--previews DIR]

Each ENVI scene (6 bands, uint8, 800 x 800, 30 m, EPSG:32650) becomes one Cloud Optimized
GeoTIFF (GDAL COG driver, DEFLATE + predictor 2) that keeps all six bands and records:

* band descriptions ``blue green red nir swir1 swir2`` (TM bands 1, 2, 3, 4, 5, 7), a
  ``TM_BAND`` tag and the GDAL ``IMAGERY`` domain ``CENTRAL_WAVELENGTH_UM`` per band,
* ``TIFFTAG_DATETIME`` (``YYYY:MM:DD 00:00:00``), an ``ACQUISITION_DATE`` (ISO date),
  ``SENSOR=landsat-tm`` and ``PRODUCT_ID`` in the default metadata domain,
* the product id and the date in the file name (``LT51200382000124BJC00_2000-05-03.tif``), so a
  reader that ignores tags can still guess both.

The acquisition date is decoded from the Landsat product id (``LT5 PPPRRR YYYY DOY ...``).
Only the imagery is converted: the ``change.bmp``/``unchanged.bmp`` labels are never read.
``--previews DIR`` also writes true-colour PNGs (one image pixel per scene pixel) to DIR; the
illustrative zones (``ZONES``) and approval (``APPROVALS``) below were drawn on them by eye and
are written, reprojected to EPSG:4326, as ``zones.geojson`` and ``approvals.geojson``.
"""
from __future__ import annotations

import argparse
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import rasterio
from rasterio.shutil import copy as rio_copy

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "data" / "landsat" / "Nanjing"
DEFAULT_OUT = ROOT / "data" / "demo" / "nanjing"
SCENES = ("LT51200382000124BJC00_Nanjing", "LT51200382002193BJC00_Nanjing")
BAND_ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
TM_BANDS = ("B1", "B2", "B3", "B4", "B5", "B7")
TM_WAVELENGTH_UM = (0.485, 0.569, 0.660, 0.840, 1.676, 2.223)  # from the ENVI headers
_PRODUCT_RE = re.compile(r"^(L[TEMC]\d)(\d{3})(\d{3})(\d{4})(\d{3})[A-Z]{3}\d{2}")


def product_date(product_id: str) -> date:
    """Acquisition date of a pre-collection Landsat scene id (``LT5 120038 2000 124 BJC00``)."""
    m = _PRODUCT_RE.match(product_id)
    if not m:
        raise ValueError(f"{product_id}: not a Landsat scene id")
    year, doy = int(m.group(4)), int(m.group(5))
    return date(year, 1, 1) + timedelta(days=doy - 1)


def convert(src: Path, out_dir: Path) -> Path:
    """Write one ENVI scene as a dated 6-band COG; returns the COG path."""
    product_id = src.name.split("_")[0]
    acquired = product_date(product_id)
    dst = out_dir / f"{product_id}_{acquired.isoformat()}.tif"
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "staged.tif"
        with rasterio.open(src) as ds:
            if ds.count != len(BAND_ROLES):
                raise SystemExit(f"{src}: expected {len(BAND_ROLES)} bands, found {ds.count}")
            profile = ds.profile | {"driver": "GTiff", "tiled": False, "compress": None}
            profile.pop("interleave", None)
            with rasterio.open(staged, "w", **profile) as out:
                out.write(ds.read())
                bands = zip(BAND_ROLES, TM_BANDS, TM_WAVELENGTH_UM)
                for i, (role, tm, um) in enumerate(bands, start=1):
                    out.set_band_description(i, role)
                    out.update_tags(i, TM_BAND=tm)
                    out.update_tags(i, ns="IMAGERY", CENTRAL_WAVELENGTH_UM=f"{um:.3f}")
                out.update_tags(
                    TIFFTAG_DATETIME=acquired.strftime("%Y:%m:%d 00:00:00"),
                    ACQUISITION_DATE=acquired.isoformat(),
                    SENSOR="landsat-tm",
                    PRODUCT_ID=product_id,
                )
        rio_copy(staged, dst, driver="COG", compress="DEFLATE", predictor=2,
                 blocksize=256, overview_resampling="average")
    return dst


def preview(tif: Path, png: Path) -> None:
    """True-colour PNG (2-98 % stretch), 1 image pixel per scene pixel, for drawing zones."""
    from PIL import Image

    with rasterio.open(tif) as ds:
        rgb = ds.read([3, 2, 1]).astype(np.float32)
    lo = np.percentile(rgb, 2, axis=(1, 2), keepdims=True)
    hi = np.percentile(rgb, 98, axis=(1, 2), keepdims=True)
    img = np.clip((rgb - lo) / np.maximum(hi - lo, 1e-6), 0, 1)
    Image.fromarray((img.transpose(1, 2, 0) * 255).astype(np.uint8)).save(png)


# Illustrative zones, drawn by eye on the true-colour previews of both dates (never on the
# change/unchanged label masks). Vertices are (col, row) pixel positions of the 800 x 800 scene;
# they are mapped through the scene transform and written in EPSG:4326.
ZONES: tuple[dict[str, object], ...] = (
    {"zone_id": "NJ-JBNT-001", "zone_type": "permanent_basic_farmland", "level": 1,
     "unit": "东山镇国土所", "name": "秦淮河南岸永久基本农田片区（示意）",
     "px": [(300, 640), (398, 636), (402, 700), (400, 762), (302, 765)]},
    {"zone_id": "NJ-JBNT-002", "zone_type": "permanent_basic_farmland", "level": 1,
     "unit": "上坊镇国土所", "name": "上坊村永久基本农田片区（示意）",
     "px": [(545, 505), (700, 500), (702, 628), (590, 634), (545, 600)]},
    {"zone_id": "NJ-YBGD-001", "zone_type": "general_farmland", "level": 2,
     "unit": "东山镇国土所", "name": "百家湖西一般耕地片区（示意）",
     "px": [(200, 645), (296, 645), (298, 780), (205, 782)]},
    {"zone_id": "NJ-YBGD-002", "zone_type": "general_farmland", "level": 2,
     "unit": "上坊镇国土所", "name": "方山东南一般耕地片区（示意）",
     "px": [(600, 700), (785, 700), (785, 792), (600, 792)]},
    {"zone_id": "NJ-STHX-001", "zone_type": "ecological_redline", "level": 1,
     "unit": "江宁区自然资源分局", "name": "方山生态保护红线（示意）",
     "circle": (535, 672, 34)},
    {"zone_id": "NJ-ZRBH-001", "zone_type": "nature_reserve", "level": 1,
     "unit": "玄武区自然资源分局", "name": "紫金山自然保护地（示意）",
     "px": [(385, 4), (560, 4), (578, 60), (545, 112), (455, 122), (400, 85)]},
    {"zone_id": "NJ-CSGH-001", "zone_type": "urban_planning", "level": 3,
     "unit": "东山镇国土所", "name": "东山镇区城镇开发边界（示意）",
     "px": [(395, 435), (500, 440), (500, 540), (400, 540)]},
)
APPROVALS: tuple[dict[str, object], ...] = (
    {"approval_no": "苏政地〔2001〕123号", "approved_use": "工业用地",
     "approved_on": "2001-06-18",
     "px": [(318, 700), (352, 700), (352, 752), (318, 752)]},
)


def _ring(feature: dict[str, object]) -> list[tuple[float, float]]:
    if "circle" in feature:
        cx, cy, r = feature["circle"]  # type: ignore[misc]
        a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        return [(cx + r * np.cos(t), cy + r * np.sin(t)) for t in a]
    return list(feature["px"])  # type: ignore[arg-type]


def write_layers(tif: Path, out_dir: Path) -> None:
    """Write ``zones.geojson`` and ``approvals.geojson`` (EPSG:4326) from the pixel polygons."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    with rasterio.open(tif) as ds:
        transform, crs = ds.transform, ds.crs
    for layer, name in ((ZONES, "zones"), (APPROVALS, "approvals")):
        rows = [{k: v for k, v in f.items() if k not in ("px", "circle")} for f in layer]
        geoms = [Polygon([transform @ (c, r) for c, r in _ring(f)]) for f in layer]
        frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=crs).to_crs("EPSG:4326")
        path = out_dir / f"{name}.geojson"
        path.unlink(missing_ok=True)
        frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=7)
        print(f"{path}: {len(frame)} features")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--previews", type=Path, default=None, metavar="DIR",
                    help="also write true-colour PNG previews to DIR (not committed)")
    args = ap.parse_args(argv)
    tiles = args.out / "tiles"
    tiles.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCENES:
        src = args.src / name
        if not src.exists():
            raise SystemExit(f"{src}: not found (the shared Landsat Nanjing data set)")
        dst = convert(src, tiles)
        written.append(dst)
        print(f"{dst.relative_to(ROOT) if dst.is_relative_to(ROOT) else dst}: "
              f"{dst.stat().st_size / 1e6:.2f} MB")
        if args.previews is not None:
            args.previews.mkdir(parents=True, exist_ok=True)
            preview(dst, args.previews / f"{dst.stem}.png")
    write_layers(written[0], args.out)


if __name__ == "__main__":
    main()

