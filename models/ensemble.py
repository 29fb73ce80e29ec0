"""cva + gbm: the trained detector's recall, checked against cva's physics.

Both members give a score that is 0.5 at their own cut: ``g`` (gbm v6: smoothed booster
probability mapped so the cut chosen by inner CV is 0.5) and ``s`` (cva 1.1: 0.5 at ``m = m0``).
Two combinations (modes), each with one constant per band set, chosen on training folds only
by ``landpatrol train cv-ensemble`` (:mod:`lab.ensemblecv`, models/README.md):

* ``gate``: ``min(g, rescale(s, tau(f)))``: changed where gbm says changed *and* cva's
  magnitude exceeds ``f * m0`` (``tau(f) = 1 - 2 ** -(f ** 2)``; ``f = 0`` is gbm alone).
* ``geo``: ``rescale(sqrt(g * s), t)``: the geometric mean, cut at ``t``.

Scene fit: gbm's scene parameters at the top level (so the driver's full-resolution
``shift`` re-estimate reaches gbm) and cva's under ``"cva"``. Window-invariant given gbm's
halo (cva is per-pixel). The class is cva's: both use the same rules
(:mod:`models.change_class`), and cva's reduced-major-axis normalisation of the after date is
the steadier input (gbm's least-squares gain can be pulled well below 1 by noisy, low-contrast
scenes, which makes NDVI-based rules flicker on a roof's pixels).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap
from models.cva import CVADetector
from models.gbm import DEFAULT_VERSION, GBMDetector, rescale

MODES = ("gate", "geo")

CONSTANTS_BY_GBM: dict[str, dict[str, dict[str, float]]] = {
    "v3": {"gate": {"full": 0.4, "rgb": 0.6}, "geo": {"full": 0.46, "rgb": 0.52}},
    "v5": {"gate": {"full": 0.4, "rgb": 0.0}, "geo": {"full": 0.38, "rgb": 0.46}},
    "v6": {"gate": {"full": 0.4, "rgb": 0.0}, "geo": {"full": 0.38, "rgb": 0.48}},
}
"""Constant per gbm version, mode and band set (``f`` for gate, ``t`` for geo), chosen on the
pooled out-of-fold maps of OSCD (``full``) and the aerial pairs (``rgb``) of that version's
training: v3 lab/results/cv-ensemble-v3.json; v5 (9 cities) lab/results/v4.5-gbm5/
cv-ensemble-oscd.json and lab/results/v4.3-aerial-cuts/; v6 lab/results/v4.5-lite/ (for v5
and v6 the ``rgb`` gate constant 0.0 leaves gbm alone). v2's were gate 0.4 / 0.5, geo 0.42 / 0.48 (cv-ensemble.json)."""
CONSTANTS: dict[str, dict[str, float]] = CONSTANTS_BY_GBM[DEFAULT_VERSION]
"""The shipped gbm's constants."""

DEFAULT_MODE = "gate"


def cva_cut(f: float) -> float:
    """cva score at ``m = f * m0`` (its score is ``1 - 2 ** -((m / m0) ** 2)``)."""
    return float(1.0 - 2.0 ** (-(f * f)))


def combine(g: np.ndarray, s: np.ndarray, mode: str, constant: float) -> np.ndarray:
    """Ensemble score in [0, 1], 0.5 at the ensemble's cut, from gbm score ``g`` and cva score ``s``."""
    g = np.asarray(g, np.float32)
    s = np.asarray(s, np.float32)
    if mode == "gate":
        return np.minimum(g, rescale(s, cva_cut(constant))).astype(np.float32)
    if mode == "geo":
        return rescale(np.sqrt(g * s), constant)
    raise ValueError(f"unknown ensemble mode {mode!r}; choose one of {', '.join(MODES)}")


class EnsembleDetector:
    """gbm (shipped version) and cva 1.1 combined (see module docstring)."""

    name = "ensemble"
    required_roles = frozenset({"red", "green", "blue"})
    threshold = 0.5

    def __init__(self, gbm: GBMDetector | None = None, cva: CVADetector | None = None,
                 mode: str = DEFAULT_MODE, constants: Mapping[str, float] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown ensemble mode {mode!r}; choose one of {', '.join(MODES)}")
        self.gbm = gbm if gbm is not None else GBMDetector()
        self.cva = cva if cva is not None else CVADetector()
        self.mode = mode
        if constants is None:  # the constants chosen for this gbm version (the shipped ones for a fold model)
            constants = CONSTANTS_BY_GBM.get(self.gbm.version, CONSTANTS)[mode]
        self.constants = dict(constants)
        self.version = f"1.0-{mode}(gbm {self.gbm.version}, cva {self.cva.version})"
        self.halo = self.gbm.halo
        self.window_px = self.gbm.window_px  # gbm's features set the window's memory

    @property
    def thread_safe(self) -> bool:
        """As gbm's (compiled trees are re-entrant, LightGBM's predict is not guaranteed to be)."""
        return bool(self.gbm.thread_safe and getattr(self.cva, "thread_safe", False))

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        scene = dict(self.gbm.fit_scene(before, after, valid))
        scene["cva"] = self.cva.fit_scene(before, after, valid)
        band_set = self.gbm.band_set(set(scene["roles"]))
        scene["ensemble"] = {"mode": self.mode, "band_set": band_set,
                             "constant": float(self.constants[band_set])}
        return scene

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray,
               scene: Mapping[str, Any]) -> ChangeMap:
        valid = np.asarray(valid, bool)
        g = self.gbm.detect(before, after, valid, scene)
        c = self.cva.detect(before, after, valid, scene["cva"])
        constant = float(self.constants[self.gbm.band_set(set(scene["roles"]))])
        score = np.where(valid, combine(g.score, c.score, self.mode, constant), np.float32(0)).astype(np.float32)
        changed = valid & (score > 0)
        # cva's per-pixel class, asked only for the pixels the run asks for (its flagged ones)
        return ChangeMap(score=score, classes_of=lambda mask: c.class_where(np.asarray(mask, bool) & changed))
