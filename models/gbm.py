"""The trained detector: LightGBM on multi-temporal per-pixel features with context.

One booster per band set (``full`` for tiles with nir and swir, ``rgb`` for everything else),
picked per pair from the bands it has. ``fit_scene`` estimates the sub-pixel shift of the after
date (phase correlation), a per-band gain/offset onto the before date (pseudo-invariant
pixels), and the spreads the features are divided by; ``detect`` applies them, computes the
features of :mod:`models.features` and predicts. The probability map is then averaged over a
``smooth_px`` square (object-level smoothing: a lone confident pixel is damped, a coherent
object keeps its score), and mapped piecewise-linearly so that the cut chosen at training time
(by cross-validation on the training images only) falls at 0.5, the detector's ``threshold``.

Artifacts: ``models/artifacts/gbm-<version>.json`` (sidecar: feature names, thresholds,
training data, seeds) next to one LightGBM text model per band set.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models import filters
from models.base import (  # rescale: re-exported, shared by the detectors
    BandStack,
    ChangeMap,
    rescale,
)
from models.change_class import classes_where
from models.compiled import CompiledForest
from models.features import (
    BAND_SETS,
    RGB,
    band_set_for,
    compute_features,
    feature_names,
    feature_radius,
    pixel_magnitude,
)
from pipeline.coreg import MAX_SHIFT_PX, apply_shift, estimate_shift
from pipeline.errors import ModelError
from pipeline.radiometry import apply_normalisation, fit_normalisation

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEFAULT_VERSION = "v6"
SMOOTH_PX = 3  # box width of the probability smoothing (1 = none)


def _brightness(s: Mapping[str, np.ndarray]) -> np.ndarray:
    return (s["red"] + s["green"] + s["blue"]) / 3.0


def prepare_after(after: BandStack, scene: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The after date shifted onto the before date and radiometrically normalised."""
    dy, dx = scene.get("shift", (0.0, 0.0))
    moved = {r: apply_shift(np.asarray(v, np.float32), dy, dx) for r, v in after.items() if r in scene["roles"]}
    return apply_normalisation(moved, {r: tuple(v) for r, v in scene["gain_offset"].items()})


def fill(stack: Mapping[str, np.ndarray], means: Mapping[str, float]) -> dict[str, np.ndarray]:
    """NaN replaced by the scene mean of the band (filters never spread NaN); negatives to 0."""
    return {
        r: np.maximum(np.where(np.isfinite(v), v, np.float32(means[r])), 0.0).astype(np.float32)
        for r, v in stack.items()
    }


def fit_scene_params(before: BandStack, after: BandStack, valid: np.ndarray, coregister: bool = True) -> dict[str, Any]:
    """Scene parameters shared by training and detection (JSON-serialisable).

    The shift is estimated in the pixels of the arrays given: exact when they are at full
    resolution (as in evaluation); a driver that hands in a decimated sample should overwrite
    ``scene["shift"]`` with :func:`pipeline.coreg.estimate_shift` on a full-resolution window.
    """
    roles = [r for r in BAND_SETS["full"] if r in before and r in after]
    b = {r: np.asarray(before[r], np.float32) for r in roles}
    a = {r: np.asarray(after[r], np.float32) for r in roles}
    shift = estimate_shift(_brightness(b), _brightness(a)) if coregister else (0.0, 0.0)
    a = {r: apply_shift(v, *shift) for r, v in a.items()}
    ok = valid & np.all([np.isfinite(b[r]) & np.isfinite(a[r]) for r in roles], axis=0)
    if ok.sum() < 100:
        ok = valid
    gain_offset = fit_normalisation(b, a, ok)
    a = apply_normalisation(a, gain_offset)
    scale = {r: max(float(np.std(b[r][ok])), 1e-3) for r in roles}
    means = {r: float(np.mean(b[r][ok])) for r in roles}
    scene: dict[str, Any] = {
        "roles": roles, "shift": [float(shift[0]), float(shift[1])],
        "gain_offset": {r: [round(g, 6), round(o, 6)] for r, (g, o) in gain_offset.items()},
        "scale": scale, "mean": means, "bright_mean": max(float(np.mean(_brightness(b)[ok])), 1e-3),
    }
    # per band set the tile has: the per-pixel change magnitude, whose 90th percentile scales
    # the CVA features
    mags = {bs: pixel_magnitude(b, a, BAND_SETS[bs], scale)[ok]
            for bs in BAND_SETS if all(r in roles for r in BAND_SETS[bs])}
    scene["cva_ref"] = max(float(np.percentile(mags["rgb"], 90)), 1e-3)
    if "full" in mags:
        scene["cvaf_ref"] = max(float(np.percentile(mags["full"], 90)), 1e-3)
    return scene


def scene_features(
    before: BandStack, after: BandStack, scene: Mapping[str, Any], band_set: str, wide: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Features (F, rows, cols) of a window, plus the prepared (filled) before/after stacks."""
    b = fill({r: np.asarray(before[r], np.float32) for r in scene["roles"]}, scene["mean"])
    a = fill(prepare_after(after, scene), scene["mean"])
    return compute_features(b, a, scene, band_set, wide), b, a


WINDOW_PX = 512
"""Side of gbm's detection windows. Its per-window features (float32 stack plus float64
context temporaries) take ~0.5 KB a pixel: a 1,024 px window with its halo peaked at 549 MB
(tracemalloc), a 512 px one at 149 MB, at the same time per pixel (1.7 us, compiled trees,
one thread; 2026-12-02). Results do not depend on the window (its halo covers the features)."""

PREDICT_ROWS = 1 << 16
"""Pixels the trees predict at a time (see :func:`probability_map`)."""


def probability_map(booster: Any, feats: np.ndarray, valid: np.ndarray, smooth_px: int = SMOOTH_PX,
                    num_threads: int = 0) -> np.ndarray:
    """Booster probability per pixel (0 where invalid), box-averaged over ``smooth_px``."""
    prob = np.zeros(valid.shape, np.float32)
    where = np.flatnonzero(valid)
    if where.size:
        # in chunks of rows: the float64 (pixels, features) matrix the trees read is a few
        # tens of MB instead of half a GB per window; each pixel's prediction is its own
        flat, out = feats.reshape(len(feats), -1), np.empty(where.size, np.float32)
        for start in range(0, where.size, PREDICT_ROWS):
            rows = where[start:start + PREDICT_ROWS]
            out[start:start + rows.size] = booster.predict(flat[:, rows].T, num_threads=num_threads)
        prob[valid] = out
    if smooth_px > 1:
        prob = filters.box(prob, smooth_px)
    return prob


class GBMDetector:
    """LightGBM change detector (see module docstring)."""

    name = "gbm"
    required_roles = frozenset(RGB)
    threshold = 0.5
    window_px = WINDOW_PX

    def __init__(self, boosters: Mapping[str, tuple[Any, float]] | None = None, version: str = DEFAULT_VERSION,
                 artifacts: Path = ARTIFACTS, num_threads: int = 0, smooth_px: int = SMOOTH_PX,
                 wide: bool = False) -> None:
        self.version = version
        self.num_threads = num_threads
        self.smooth_px = smooth_px
        self.wide = wide
        if boosters is None:  # the sidecar's settings
            boosters, self.smooth_px, self.wide = self._load(artifacts, version)
        self._boosters = dict(boosters)
        # features + sub-pixel shift + bilinear neighbour + the smoothing box
        self.halo = feature_radius(self.wide) + int(np.ceil(MAX_SHIFT_PX)) + 1 + self.smooth_px // 2

    @staticmethod
    def _load(artifacts: Path, version: str, outline_ok: bool = False) -> tuple[dict[str, tuple[Any, float]], int, bool]:
        """Boosters, smoothing width and wide flag from the sidecar; an outline-check sidecar (a
        rejected experiment) only when ``outline_ok`` (lab/outline.py)."""
        import lightgbm as lgb

        sidecar = artifacts / f"gbm-{version}.json"
        if not sidecar.is_file():
            raise ModelError(f"{sidecar}: model sidecar missing (run `landpatrol train gbm`)")
        meta = json.loads(sidecar.read_text())
        if meta.get("outline_k") is not None and not outline_ok:
            raise ModelError(f"{sidecar}: an outline-check model (a rejected experiment, see lab/outline.py)")
        wide = bool(meta.get("wide", False))
        out = {}
        for band_set, info in meta["band_sets"].items():
            if info["features"] != feature_names(band_set, wide):
                raise ModelError(f"{sidecar}: {band_set} features do not match models/features.py")
            model_file = artifacts / info["model"]
            booster = CompiledForest(model_file, lgb.Booster(model_file=str(model_file)))
            out[band_set] = (booster, float(info["threshold"]))
        return out, int(meta.get("smooth_px", 1)), wide

    def adjust(self, score: np.ndarray, before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
               scene: Mapping[str, Any], band_set: str) -> np.ndarray:
        """Hook on the score before the cut (identity; experiments in lab/ override it)."""
        return score

    @property
    def thread_safe(self) -> bool:
        """Windows may run on several threads when every model predicts with compiled trees
        (:mod:`models.compiled`: re-entrant); LightGBM's own predict is not guaranteed to be."""
        return all(getattr(b, "backend", "lightgbm") == "lleaves" for b, _ in self._boosters.values())

    def band_set(self, roles: set[str]) -> str:
        wanted = band_set_for(roles)
        return wanted if wanted in self._boosters else "rgb"

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        return fit_scene_params(before, after, valid)

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        band_set = self.band_set(set(scene["roles"]))
        booster, cut = self._boosters[band_set]
        feats, b, a = scene_features(before, after, scene, band_set, self.wide)
        prob = probability_map(booster, feats, valid, self.smooth_px, self.num_threads)
        score = np.where(valid, rescale(prob, cut), np.float32(0.0)).astype(np.float32)
        score = self.adjust(score, b, a, scene, band_set)
        changed = score > self.threshold
        return ChangeMap(score=score, classes_of=classes_where(b, a, changed))
