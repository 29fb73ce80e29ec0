"""Onera Satellite Change Detection (OSCD) layout: reading a city and scoring a detector.

``ROOT/images/<city>/imgs_{1,2}/*B??.tif`` are single-band Sentinel-2 L1C files at 10, 20 and
60 m; ``ROOT/labels/<city>/cm/<city>-cm.tif`` holds 1 = no change, 2 = change with no CRS of its
own, on exactly the pixel grid of ``imgs_1/*B02.tif``. Everything is therefore read onto that
grid: 20 m bands and every ``imgs_2`` band (whose pixel count may differ slightly, as in
abudhabi and hongkong) are resampled bilinearly onto it with :func:`rasterio.warp.reproject`.
Reflectance is DN / 10 000; DN 0 is nodata.
"""
from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.warp import Resampling, reproject

from models.base import Detector
from pipeline.errors import InputError, TileError
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.objects import ObjectCounts, object_counts, pooled_objects
from pipeline.evaluate.runner import PostProcess, run_pair

S2_ROLES: dict[str, str] = {
    "blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir1": "B11", "swir2": "B12",
}
S2_SCALE = 1.0 / 10_000.0
S2_PIXEL_AREA = 100.0  # m2 of the 10 m label grid (the minimum mapping unit is in m2)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class City:
    name: str
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    label: np.ndarray  # bool, True = change


def labelled_cities(root: Path) -> list[str]:
    """Cities with both an image folder and a change map, sorted."""
    labels = root / "labels"
    images = root / "images"
    if not images.is_dir():
        raise InputError(root, "not an OSCD root: no images/ folder")
    return sorted(
        p.name for p in images.iterdir()
        if p.is_dir() and (labels / p.name / "cm" / f"{p.name}-cm.tif").is_file()
    )


def _band_file(folder: Path, band: str) -> Path:
    hits = sorted(folder.glob(f"*{band}.tif")) + sorted(folder.glob(f"*{band}.TIF"))
    if not hits:
        raise TileError(folder, f"no {band} band file (*{band}.tif)")
    return hits[0]


def _read_onto(path: Path, ref: rasterio.DatasetReader) -> np.ndarray:
    """One band resampled onto ``ref``'s grid, as float32 reflectance with NaN for nodata."""
    try:
        with rasterio.open(path) as src:
            if src.crs == ref.crs and src.transform == ref.transform and src.shape == ref.shape:
                raw = src.read(1).astype(np.float32)
            else:
                raw = np.zeros(ref.shape, np.float32)
                reproject(
                    source=src.read(1).astype(np.float32), destination=raw,
                    src_transform=src.transform, src_crs=src.crs,
                    dst_transform=ref.transform, dst_crs=ref.crs,
                    src_nodata=0.0, dst_nodata=0.0, resampling=Resampling.bilinear,
                )
    except RasterioIOError as exc:
        raise TileError(path, f"unreadable band file ({exc})") from exc
    out = raw * np.float32(S2_SCALE)
    out[raw <= 0] = np.nan
    return out


def read_city(root: Path, city: str, roles: Sequence[str] = tuple(S2_ROLES)) -> City:
    """Both dates of ``city`` on the label grid, plus the label as a bool mask."""
    img = root / "images" / city
    label_path = root / "labels" / city / "cm" / f"{city}-cm.tif"
    ref_path = _band_file(img / "imgs_1", "B02")
    with rasterio.open(ref_path) as ref:
        before = {r: _read_onto(_band_file(img / "imgs_1", S2_ROLES[r]), ref) for r in roles}
        after = {r: _read_onto(_band_file(img / "imgs_2", S2_ROLES[r]), ref) for r in roles}
        shape = ref.shape
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # labels carry no CRS
            with rasterio.open(label_path) as lab:
                raw = lab.read(1)
    except RasterioIOError as exc:
        raise InputError(label_path, f"unreadable change map ({exc})") from exc
    if raw.shape != shape:
        raise InputError(label_path, f"change map is {raw.shape}, imgs_1 B02 grid is {shape}")
    return City(name=city, before=before, after=after, label=raw == 2)


def evaluate_oscd(
    root: Path,
    detector: Detector,
    cities: Sequence[str] | None = None,
    progress: Progress | None = None,
    threshold: float | None = None,
    post: PostProcess | None = None,
    roles: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Score ``detector`` on each city; the JSON record of ``landpatrol evaluate oscd``.

    ``post`` is the clean-up scored (default: the product's, see :class:`PostProcess`);
    ``roles`` the bands read (default: every Sentinel-2 role; e.g. blue, green, red, nir for a
    4-band pair)."""
    post = post or PostProcess()
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    names = list(cities) if cities else labelled_cities(root)
    available = set(labelled_cities(root))
    for name in names:
        if name not in available:
            raise InputError(root / "labels" / name, f"no labelled OSCD city {name!r}")
    t0 = time.perf_counter()
    per_city: dict[str, Confusion] = {}
    objects: dict[str, ObjectCounts] = {}
    cuts: dict[str, Any] = {}
    mmu = post.mmu_pixels(S2_PIXEL_AREA)
    for name in names:
        t = time.perf_counter()
        city = read_city(root, name, tuple(roles) if roles else tuple(S2_ROLES))
        res = run_pair(detector, city.before, city.after, str(root / "images" / name), threshold,
                       post=post, pixel_area=S2_PIXEL_AREA)
        per_city[name] = Confusion.from_masks(res.mask, city.label)
        objects[name] = object_counts(res.mask, city.label, mmu)
        if "cut" in res.scene:
            cuts[name] = res.scene["cut"]
        say(f"oscd {name}: f1={per_city[name].f1:.3f} patch precision={objects[name].patch_precision:.3f} "
            f"object recall={objects[name].object_recall:.3f} ({time.perf_counter() - t:.1f}s)")
    return {
        "pooled": pooled(per_city.values()).to_dict(),
        "pooled_objects": pooled_objects(objects.values()).to_dict(),
        "cities": {k: dict(v.to_dict(), objects=objects[k].to_dict(), **({"cut": cuts[k]} if k in cuts else {}))
                   for k, v in per_city.items()},
        "detector": describe(detector, threshold),
        "roles": list(roles) if roles else list(S2_ROLES),
        "postprocess": post.describe(S2_PIXEL_AREA),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def describe(detector: Detector, threshold: float | None = None) -> dict[str, Any]:
    return {
        "name": detector.name,
        "version": detector.version,
        "threshold": detector.threshold if threshold is None else threshold,
    }
