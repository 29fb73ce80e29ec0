"""The change-score raster: a score of 0..1 stored in steps of 1/250 as a uint8 COG.

A pixel holds ``round(score * 250)`` (0..250) and 255 where the pair is not valid on both
dates; the band's GDAL scale (1/250) and offset (0) say so, so QGIS, ``gdalinfo`` and
``rioxarray.open_rasterio(mask_and_scale=True)`` show the score itself. Sentinel-2's own cloud
probability (``MSK_CLDPRB``) is stored the same way. The step, 0.004, is far below what any
cut or display resolves, and a byte a pixel makes the COG a quarter of a float32 one (a
Sentinel-2 tile's score: ~115 MB against ~540 MB) and its copy three to four times faster (it
was the slowest step of a `cva` run, ``benchmarks/README.md``).

The run's cut is kept exactly: a pixel the detector flagged (score above the threshold) is
stored above it, every other valid pixel at or below it, so ``read_score(...) > threshold`` is
the flagged mask, whatever the rounding (:func:`encode`). Patch statistics (``score_mean``,
``score_max``) come from the detector's own float32 scores, not from this file.

:func:`read_score` reads this file and the float32 score rasters (nodata -1) of runs written
before 2026-12-02 alike.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

SCORE_STEPS = 250
"""Score steps a pixel holds: the stored value is ``round(score * SCORE_STEPS)``."""
SCORE_SCALE = 1.0 / SCORE_STEPS
SCORE_NODATA = 255
"""Stored where the pair is not valid on both dates."""
SCORE_DTYPE = "uint8"


def encode(score: np.ndarray, valid: np.ndarray, threshold: float) -> np.ndarray:
    """``score`` (float, 0..1) as stored: uint8 steps, :data:`SCORE_NODATA` where not ``valid``.

    Rounded to the nearest step, then moved by at most one step where rounding would cross
    ``threshold``: flagged pixels (``score > threshold``) keep a stored score above it and the
    others one at or below it."""
    s = np.asarray(score, np.float32)
    q = np.rint(np.clip(s, 0.0, 1.0) * np.float32(SCORE_STEPS)).astype(np.int16)
    at_or_below = int(math.floor(threshold * SCORE_STEPS + 1e-9)) if 0 <= threshold < 1 else None
    if at_or_below is not None:
        flagged = s > threshold  # as the window pass flags: in float32 (NEP 50)
        q = np.where(flagged, np.maximum(q, at_or_below + 1), np.minimum(q, at_or_below))
    out = q.astype(np.uint8)
    out[~np.asarray(valid, bool)] = SCORE_NODATA
    return out


def decode(stored: np.ndarray, scale: float = SCORE_SCALE, offset: float = 0.0,
           nodata: float | None = SCORE_NODATA) -> np.ndarray:
    """Stored values as float32 scores, NaN at ``nodata``."""
    out = stored.astype(np.float32) * np.float32(scale) + np.float32(offset)
    if nodata is not None:
        out[stored == nodata] = np.nan
    return out


def read_score(src: Any, window: Any = None, out_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Band 1 of the score raster ``src`` (an open rasterio dataset) as float32 0..1, NaN where
    not valid; uint8 files of this module and float32 files (nodata -1) alike."""
    stored = src.read(1, window=window, out_shape=out_shape)
    return decode(stored, src.scales[0], src.offsets[0], src.nodata)


BAND_DESCRIPTION = "change score 0..1 (stored value x 1/250; 255: not valid on both dates)"

