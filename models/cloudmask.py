"""The Sentinel-2 L1C cloud model: s2cloudless' pixel classifier, run through LightGBM.

The model is the LightGBM text model that ``s2cloudless`` 1.7.3 (Sinergise / Sentinel Hub,
https://github.com/sentinel-hub/sentinel2-cloud-detector) ships as
``models/pixel_s2_cloud_detector_lightGBM_v0.1.txt``: 170 trees of 770 leaves over ten L1C
top-of-atmosphere reflectances (B01, B02, B04, B05, B08, B8A, B09, B10, B11, B12, DN / 10000),
giving the probability that a pixel is cloud. It is shipped here unchanged, gzip-compressed,
as ``models/artifacts/s2cloudless-v0.1.txt.gz`` (licence CC BY-SA 4.0, see
``models/artifacts/S2CLOUDLESS.md``). The ``s2cloudless`` package itself is not a dependency:
it imports ``sentinelhub`` (a web client with its own stack) at import time and ``opencv`` for
two filters; landpatrol needs neither, never downloads anything and runs offline.

:func:`cloud_mask_from_probability` is s2cloudless' own post-processing (``get_mask_from_prob``):
the probability averaged over a disk, cut at ``threshold``, the mask dilated by a disk, here
with scipy and NaN-aware (pixels without data neither count nor spread).
"""
from __future__ import annotations

import gzip
import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from pipeline.errors import ModelError

ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "s2cloudless-v0.1.txt.gz"
VERSION = "s2cloudless-v0.1"
"""The model's name in run records (s2cloudless 1.7.3's model file v0.1)."""
MODEL_SHA256 = "0f92b6822cc0ad42982f55bab9b1688329e119451ad9a9e0a56384b9f37bc61d"
"""sha256 of the uncompressed model text, as s2cloudless 1.7.3 ships it."""
MODEL_BANDS: tuple[str, ...] = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
"""The model's input, in order: L1C TOA reflectance (DN / 10000) of these Sentinel-2 bands."""

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _booster() -> Any:
    import lightgbm

    try:
        raw = gzip.decompress(ARTIFACT.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ModelError(f"{ARTIFACT}: cannot read the cloud model ({exc})") from None
    if hashlib.sha256(raw).hexdigest() != MODEL_SHA256:
        raise ModelError(f"{ARTIFACT}: not the s2cloudless v0.1 cloud model (sha256 differs)")
    return lightgbm.Booster(model_str=raw.decode("ascii"))


def cloud_probability(bands: np.ndarray, num_threads: int = 0) -> np.ndarray:
    """Cloud probability (0..1, float32) of each row of ``bands`` ((n, 10), :data:`MODEL_BANDS`
    order, TOA reflectance); NaN for rows with any band not finite."""
    x = np.asarray(bands, np.float32)
    if x.ndim != 2 or x.shape[1] != len(MODEL_BANDS):
        raise ValueError(f"cloud model input must be (n, {len(MODEL_BANDS)}), got {x.shape}")
    out = np.full(len(x), np.nan, np.float32)
    ok = np.isfinite(x).all(axis=1)
    if ok.any():
        with _lock:  # one Booster, LightGBM's own threads
            booster = _booster()
        out[ok] = booster.predict(x[ok], num_threads=num_threads).astype(np.float32)
    return out


def disk(radius: int) -> np.ndarray:
    """Boolean disk of ``radius`` pixels (a single pixel for 0), as skimage's ``disk``."""
    r = max(0, int(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return (yy * yy + xx * xx) <= r * r


def cloud_mask_from_probability(prob: np.ndarray, threshold: float, average_px: int,
                                dilation_px: int) -> np.ndarray:
    """s2cloudless' post-processing on a 2-D probability map (NaN = no data).

    ``prob`` averaged over a disk of ``average_px`` (mean of the pixels with data under it,
    mirrored at the edges as s2cloudless does), ``> threshold``, then dilated by a disk of
    ``dilation_px``; a pixel without data is never cloudy itself.
    """
    p = np.asarray(prob, np.float32)
    has = np.isfinite(p)
    if average_px > 0:
        k = disk(average_px).astype(np.float32)
        num = ndimage.convolve(np.where(has, p, 0).astype(np.float32), k, mode="mirror")
        den = ndimage.convolve(has.astype(np.float32), k, mode="mirror")
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(den > 0, num / np.maximum(den, 1e-6), np.nan)
    with np.errstate(invalid="ignore"):
        mask = p > threshold
    if dilation_px > 0 and mask.any():
        mask = ndimage.binary_dilation(mask, structure=disk(dilation_px))
    return mask & has
