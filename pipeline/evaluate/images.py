"""Plain image files as band stacks: ENVI/GeoTIFF rasters and un-georeferenced pictures.

Band roles follow the band count: 3 (or 4 with alpha) = red, green, blue as a picture stores
them; 6 = Landsat TM/ETM+ bands 1,2,3,4,5,7 (blue, green, red, nir, swir1, swir2). Values are
scaled to 0..1 by data type (uint8 / 255, uint16 / 10 000, floats as stored).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image, UnidentifiedImageError
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

from pipeline.errors import InputError, TileError

ROLES_BY_COUNT: dict[int, tuple[str, ...]] = {
    3: ("red", "green", "blue"),
    4: ("red", "green", "blue"),  # RGBA picture: alpha dropped
    6: ("blue", "green", "red", "nir", "swir1", "swir2"),
}
PICTURE_SUFFIXES = {".bmp", ".png", ".jpg", ".jpeg", ".gif", ".webp"}


def _scale(raw: np.ndarray) -> np.ndarray:
    if raw.dtype == np.uint8:
        return raw.astype(np.float32) / np.float32(255.0)
    if raw.dtype == np.uint16:
        return raw.astype(np.float32) / np.float32(10_000.0)
    return raw.astype(np.float32)


def read_stack(path: Path) -> dict[str, np.ndarray]:
    """A whole image as role -> float32 0..1 array."""
    if path.suffix.lower() in PICTURE_SUFFIXES:
        arr = read_picture(path, grey=False)
        bands = [arr[..., i] for i in range(arr.shape[-1])] if arr.ndim == 3 else [arr] * 3
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                with rasterio.open(path) as src:
                    data = src.read()
        except RasterioIOError as exc:
            raise TileError(path, f"unreadable raster ({exc})") from exc
        bands = list(data)
    roles = ROLES_BY_COUNT.get(len(bands))
    if roles is None:
        raise TileError(path, f"{len(bands)} bands; expected 3 (RGB) or 6 (Landsat TM)")
    return {role: _scale(bands[i]) for i, role in enumerate(roles)}


def pixel_size_m(path: Path) -> float | None:
    """Ground size of one pixel in metres, or None for a picture or a raster without a CRS.

    Geographic CRSs are converted at the image centre's latitude (good to a fraction of a per
    cent at these sizes); projected ones by the CRS's linear unit.
    """
    if path.suffix.lower() in PICTURE_SUFFIXES:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                crs, t, bounds = src.crs, src.transform, src.bounds
    except RasterioIOError as exc:
        raise TileError(path, f"unreadable raster ({exc})") from exc
    if crs is None or t.is_identity:
        return None
    size = float(np.sqrt(abs(t.a * t.e - t.b * t.d)))
    if crs.is_geographic:
        lat = np.radians((bounds.bottom + bounds.top) / 2.0)
        return size * 111_320.0 * float(np.cos(lat))  # approximately square at these sizes
    return size * float(crs.linear_units_factor[1])


def read_picture(path: Path, grey: bool) -> np.ndarray:
    """Pixels of a picture (RGB, or one band when ``grey``) as a numpy array."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L" if grey else "RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(path, f"unreadable image ({exc})") from exc


def read_mask(path: Path) -> np.ndarray:
    """A 0/255 (or 0/1) mask as bool: True where the value is above half its range."""
    if path.suffix.lower() in PICTURE_SUFFIXES:
        raw = read_picture(path, grey=True)
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                with rasterio.open(path) as src:
                    raw = src.read(1)
        except RasterioIOError as exc:
            raise InputError(path, f"unreadable mask ({exc})") from exc
    top = 1 if raw.max(initial=0) <= 1 else 255
    return raw > top / 2
