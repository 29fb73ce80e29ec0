"""Outline check: a pixel a context-using model calls changed must have changed itself.

``gbm``'s features look up to 15 px around a pixel, so a confident object drags a rim of
unchanged neighbours along (on the test scene's 30 x 30 px roof, +70 % area). The check keeps
a pixel changed only where its *own* normalised spectral change ``m`` exceeds the scene's
noise bar ``median(m) + k * 1.4826 * MAD(m)`` (scene statistics, from ``fit_scene``'s
sample). It needs no training.

With ``band_px`` the check is confined to the *rim*: the pixels of a detected object within
``band_px`` of its edge (the object minus its erosion by a ``2 band_px + 1`` square). The
object's core is kept whatever its own change (inside a new building many pixels change
little; the model saw them in context), and objects narrower than ``2 band_px + 1`` are all rim.
The erosion looks ``band_px`` pixels around, which the detector adds to its halo.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import ndimage

MAD_TO_SIGMA = 1.4826


def pixel_magnitude(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
                    roles: Sequence[str], scale: Mapping[str, float]) -> np.ndarray:
    """Per-pixel change magnitude ``sqrt(sum(((after - before) / scale) ** 2))`` over ``roles``."""
    total = np.zeros(np.shape(before[roles[0]]), np.float32)
    for r in roles:
        d = (np.asarray(after[r], np.float32) - np.asarray(before[r], np.float32)) / np.float32(scale[r])
        total += d * d
    return np.sqrt(total)


def noise_stats(m: np.ndarray) -> list[float]:
    """``[median, MAD]`` of the finite magnitudes (JSON-serialisable scene parameter)."""
    v = np.asarray(m, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [0.0, 0.0]
    med = float(np.median(v))
    return [med, float(np.median(np.abs(v - med)))]


def noise_bar(stats: Sequence[float], k: float) -> float:
    med, mad = stats
    return max(med + k * MAD_TO_SIGMA * mad, 1e-6)


def outline_gate(score: np.ndarray, m: np.ndarray, bar: float) -> np.ndarray:
    """``score`` capped by ``0.5 * m / bar``: at the usual cut 0.5 a pixel stays changed only if
    its score says so *and* ``m > bar``; a pixel with ``m >= 2 bar`` is not touched at all."""
    cap = np.clip(0.5 * np.asarray(m, np.float32) / np.float32(bar), 0.0, 1.0)
    return np.minimum(np.asarray(score, np.float32), cap).astype(np.float32)


def rim_gate(score: np.ndarray, m: np.ndarray, bar: float, band_px: int, cut: float = 0.5) -> np.ndarray:
    """:func:`outline_gate` on the rim of the objects ``score > cut`` only (see module docstring)."""
    changed = np.asarray(score) > cut
    core = ndimage.binary_erosion(changed, np.ones((2 * band_px + 1,) * 2, bool), border_value=1)
    return np.where(changed & ~core, outline_gate(score, m, bar), np.asarray(score, np.float32)).astype(np.float32)
