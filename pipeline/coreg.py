"""Sub-pixel co-registration of the two dates of a pair.

Phase correlation (:func:`skimage.registration.phase_cross_correlation`) on one band of each
date gives the translation that maps the *after* image onto the *before* image; the shift is
applied with bilinear interpolation (:func:`scipy.ndimage.shift`). Only a global translation is
modelled: it is what survives orthorectification of two scenes of one sensor (typically up to
a pixel) and what blurs every edge into a false change.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from pipeline.errors import ConfigError

MAX_SHIFT_PX = 3.0


def _prepare(band: np.ndarray, fill: float) -> np.ndarray:
    out = np.where(np.isfinite(band), band, fill).astype(np.float64)
    return out - out.mean()


def estimate_shift(
    before_band: np.ndarray,
    after_band: np.ndarray,
    upsample_factor: int = 20,
    max_shift: float = MAX_SHIFT_PX,
) -> tuple[float, float]:
    """``(dy, dx)`` in pixels such that ``apply_shift(after, dy, dx)`` lines up with ``before``.

    NaN pixels are filled with the band's median. A shift larger than ``max_shift`` in either
    axis is not a misregistration this function can trust (repetitive texture, a different
    scene): it returns ``(0.0, 0.0)`` rather than a wild correction.
    """
    if before_band.shape != after_band.shape:
        raise ConfigError("coreg", f"band shapes differ: {before_band.shape} vs {after_band.shape}")
    finite = np.isfinite(before_band) & np.isfinite(after_band)
    if finite.sum() < 64:
        return (0.0, 0.0)
    b = _prepare(before_band, float(np.median(before_band[finite])))
    a = _prepare(after_band, float(np.median(after_band[finite])))
    if not b.any() or not a.any():
        return (0.0, 0.0)
    shift, _, _ = phase_cross_correlation(b, a, upsample_factor=upsample_factor, normalization=None)
    dy, dx = float(shift[0]), float(shift[1])
    if abs(dy) > max_shift or abs(dx) > max_shift:
        return (0.0, 0.0)
    return (round(dy, 3), round(dx, 3))


def stack_brightness(stack: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean of the visible bands (red, green, blue where present, else every band): the image
    phase correlation is run on, since it carries the structure of every sensor."""
    roles = [r for r in ("red", "green", "blue") if r in stack] or list(stack)
    if not roles:
        raise ConfigError("coreg", "empty band stack")
    return np.mean([np.asarray(stack[r], np.float32) for r in roles], axis=0)


def estimate_stack_shift(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
                         max_shift: float = MAX_SHIFT_PX) -> tuple[float, float]:
    """:func:`estimate_shift` on the brightness of two band stacks (full resolution: the shift
    of a decimated sample is in decimated pixels and blind to sub-pixel misregistration)."""
    return estimate_shift(stack_brightness(before), stack_brightness(after), max_shift=max_shift)


def apply_shift(band: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """``band`` moved by ``(dy, dx)`` pixels (bilinear; edge values repeated; NaN kept as NaN)."""
    if dy == 0 and dx == 0:
        return band
    nan = ~np.isfinite(band)
    filled = np.where(nan, np.nanmedian(band) if (~nan).any() else 0.0, band)
    out = ndimage.shift(filled, (dy, dx), order=1, mode="nearest").astype(band.dtype, copy=False)
    if nan.any():
        moved_nan = ndimage.shift(nan.astype(np.float32), (dy, dx), order=1, mode="nearest") > 0.01
        out[moved_nan] = np.nan
    return out
