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

Measured as gbm v4 / v4b and rejected (models/README.md); :class:`OutlineGBM` is gbm with the
check, for re-running those records (``landpatrol train cv --outline K [--outline-band PX]``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from lab import ARTIFACTS
from models.base import BandStack
from models.features import BAND_SETS, pixel_magnitude
from models.gbm import GBMDetector, fill, prepare_after

MAD_TO_SIGMA = 1.4826


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


BASE_VERSION = "v3"
"""The gbm the outline check was measured on (kept in :data:`lab.ARTIFACTS`)."""


class OutlineGBM(GBMDetector):
    """gbm with the outline check on every changed pixel, or on objects' rims (``band_px``)."""

    def __init__(self, boosters: Mapping[str, tuple[Any, float]] | None = None, version: str = BASE_VERSION,
                 artifacts: Path = ARTIFACTS, num_threads: int = 0, smooth_px: int = 3, wide: bool = False,
                 outline_k: float | None = None, outline_band_px: int | None = None) -> None:
        if boosters is None:  # an outline sidecar: the product's loader refuses it unless asked
            meta = json.loads((artifacts / f"gbm-{version}.json").read_text())
            outline_k = outline_k if outline_k is not None else meta.get("outline_k")
            outline_band_px = outline_band_px if outline_band_px is not None else meta.get("outline_band_px")
            boosters, smooth_px, wide = self._load(artifacts, version, outline_ok=True)
        super().__init__(boosters, version, artifacts, num_threads, smooth_px, wide)
        if outline_k is None:
            raise ValueError("OutlineGBM needs outline_k")
        self.outline_k = float(outline_k)
        self.outline_band_px = None if outline_band_px is None else int(outline_band_px)
        self.halo += self.outline_band_px or 0

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        scene = super().fit_scene(before, after, valid)
        b = fill({r: np.asarray(before[r], np.float32) for r in scene["roles"]}, scene["mean"])
        a = fill(prepare_after(after, scene), scene["mean"])
        ok = np.asarray(valid, bool)
        scene["pixel_noise"] = {bs: noise_stats(pixel_magnitude(b, a, BAND_SETS[bs], scene["scale"])[ok])
                                for bs in BAND_SETS if all(r in scene["roles"] for r in BAND_SETS[bs])}
        return scene

    def adjust(self, score: np.ndarray, before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
               scene: Mapping[str, Any], band_set: str) -> np.ndarray:
        m = pixel_magnitude(before, after, BAND_SETS[band_set], scene["scale"])
        bar = noise_bar(scene["pixel_noise"][band_set], self.outline_k)
        return (outline_gate(score, m, bar) if self.outline_band_px is None
                else rim_gate(score, m, bar, self.outline_band_px, self.threshold))
