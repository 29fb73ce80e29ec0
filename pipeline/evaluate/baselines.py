"""The naive baseline the issue quotes: normalised change-vector magnitude, Otsu threshold.

Kept here, for measurement only, so every claim of a better detector is made against the same
yardstick by the same command (``landpatrol evaluate ... --detector naive``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from skimage.filters import threshold_otsu

from models.base import BandStack, ChangeMap, Detector

NAIVE = "naive"


class NaiveCVADetector:
    """Each band of each date z-scored over the scene; score = |difference vector| / (2 * Otsu).

    The score is scaled so that the scene's Otsu threshold on the magnitude falls at 0.5,
    which is the detector's fixed ``threshold``. Every pixel is classed OTHER when changed.
    """

    name = NAIVE
    version = "1"
    required_roles = frozenset({"red", "green", "blue"})
    halo = 0
    threshold = 0.5

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        roles = sorted(r for r in before if r in after)
        stats = {}
        for r in roles:
            b, a = before[r][valid], after[r][valid]
            stats[r] = [float(np.mean(b)), float(np.std(b)) or 1.0, float(np.mean(a)), float(np.std(a)) or 1.0]
        scene: dict[str, Any] = {"roles": roles, "stats": stats, "otsu": 1.0}
        mag = self._magnitude(before, after, scene)[valid]
        scene["otsu"] = float(threshold_otsu(mag)) if mag.size and np.ptp(mag) > 0 else 1.0
        return scene

    def _magnitude(self, before: BandStack, after: BandStack, scene: Mapping[str, Any]) -> np.ndarray:
        total = np.zeros(next(iter(before.values())).shape, np.float64)
        for r in scene["roles"]:
            mb, sb, ma, sa = scene["stats"][r]
            d = (after[r] - ma) / sa - (before[r] - mb) / sb
            total += np.nan_to_num(d) ** 2
        return np.sqrt(total)

    def detect(
        self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]
    ) -> ChangeMap:
        mag = self._magnitude(before, after, scene)
        score = np.clip(mag / (2.0 * max(scene["otsu"], 1e-9)), 0.0, 1.0).astype(np.float32)
        score[~valid] = 0.0
        cls = np.where(score > self.threshold, 5, 0).astype(np.uint8)
        return ChangeMap(score=score, change_class=cls)


def resolve_detector(name: str | None, pixel_size_m: float | None = None) -> Detector:
    """``naive`` (this module), else the registry (``None``/``auto`` by ``pixel_size_m``)."""
    from models.registry import get_detector

    if name is not None and name.lower() == NAIVE:
        return NaiveCVADetector()
    return get_detector(name, pixel_size_m)
