"""Per-scene cuts: the operating point chosen on each scene's own score distribution.

A detector's fixed cut (its ``threshold``, 0.5) was chosen on other scenes; a per-scene cut is
chosen, without labels, on the distribution of the scene's scores in ``fit_scene``'s sample.
The cut is found on ``z = sqrt(-log2(1 - score))``: for ``cva`` that is exactly ``m / m0``,
the noise-normalised change magnitude (its score is ``1 - 2 ** -((m / m0) ** 2)``); for the
other detectors it is a monotone stretch with ``z = 1`` at their fixed cut. Methods:

* ``otsu``: Otsu's between-class variance maximum (:func:`skimage.filters.threshold_otsu`).
* ``ki``: Kittler-Illingworth minimum error thresholding (two Gaussians of their own spreads).
* ``gmm``: a two-component Gaussian mixture fitted by EM; the cut is where the posterior of the
  upper component reaches 0.5 between the means.
* ``spread``: the unchanged mode's spread: ``mode + K * sigma``, ``sigma`` from the half of the
  distribution below the mode (changes only widen the upper half), ``K`` = :data:`SPREAD_K`.

:class:`SceneCutDetector` wraps any detector: its ``fit_scene`` scores the sample, records
``scene["cut"] = {"method", "score", "z"}`` (so the run's scene parameters say which cut was
used) and ``detect`` maps the wrapped score so that this cut falls at 0.5.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap, Detector, rescale, window_halo, window_px, window_thread_safe
from pipeline.classes import ChangeClass

METHODS = ("otsu", "ki", "gmm", "spread")
SPREAD_K = 3.0
"""Robust sigmas above the unchanged mode (a prior, like a 3-sigma test; not tuned)."""
BINS = 256
Z_MAX = 5.0  # z of a score 1 - 2**-25: larger z (saturated float32 scores) are clipped to it


def to_z(score: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(score, np.float64), 0.0, 1.0 - 2.0 ** -(Z_MAX ** 2))
    return np.sqrt(-np.log2(1.0 - s))


def from_z(z: float) -> float:
    return float(1.0 - 2.0 ** (-(z * z)))


def _histogram(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hist, edges = np.histogram(z, BINS, range=(0.0, float(max(z.max(), 1e-6))))
    return hist.astype(np.float64), 0.5 * (edges[:-1] + edges[1:])


def kittler_illingworth(z: np.ndarray) -> float:
    """Minimum-error cut: argmin over t of ``P1 ln s1 + P2 ln s2 - P1 ln P1 - P2 ln P2``
    (Kittler & Illingworth 1986), both classes' variances floored at one bin width."""
    hist, centres = _histogram(z)
    p = hist / hist.sum()
    floor = (centres[1] - centres[0]) ** 2 if centres.size > 1 else 1e-12
    c1, m1, q1 = np.cumsum(p), np.cumsum(p * centres), np.cumsum(p * centres ** 2)
    c2, m2, q2 = c1[-1] - c1, m1[-1] - m1, q1[-1] - q1
    with np.errstate(divide="ignore", invalid="ignore"):
        mu1, mu2 = m1 / c1, m2 / c2
        v1 = np.maximum(q1 / c1 - mu1 ** 2, floor)
        v2 = np.maximum(q2 / c2 - mu2 ** 2, floor)
        j = c1 * np.log(np.sqrt(v1)) + c2 * np.log(np.sqrt(v2)) - c1 * np.log(c1) - c2 * np.log(c2)
    ok = (c1 > 0) & (c2 > 0) & np.isfinite(j)
    if not ok.any():
        return float(centres[-1])
    best = float(j[ok].min())
    ties = np.flatnonzero(ok & (j <= best + 1e-9))  # an empty gap between the modes is flat: take its middle
    i = int(ties[ties.size // 2])
    return float(0.5 * (centres[i] + centres[min(i + 1, centres.size - 1)]))


def mixture_cut(z: np.ndarray, iterations: int = 100) -> float:
    """Two-Gaussian EM on ``z`` (started from Otsu's split); the cut between the means where the
    upper component's posterior is 0.5."""
    from skimage.filters import threshold_otsu

    t0 = float(threshold_otsu(z, nbins=BINS))
    lo, hi = z[z <= t0], z[z > t0]
    if lo.size < 2 or hi.size < 2:
        return t0
    w = np.array([lo.size, hi.size], np.float64) / z.size
    mu = np.array([lo.mean(), hi.mean()])
    var = np.maximum(np.array([lo.var(), hi.var()]), 1e-8)
    for _ in range(iterations):
        dens = w / np.sqrt(2 * np.pi * var) * np.exp(-0.5 * (z[:, None] - mu) ** 2 / var)
        r = dens / np.maximum(dens.sum(axis=1, keepdims=True), 1e-300)
        nk = r.sum(axis=0)
        if (nk < 1).any():
            break
        new_mu = (r * z[:, None]).sum(axis=0) / nk
        var = np.maximum((r * (z[:, None] - new_mu) ** 2).sum(axis=0) / nk, 1e-8)
        w = nk / z.size
        done = np.allclose(new_mu, mu, atol=1e-6)
        mu = new_mu
        if done:
            break
    lo_i, hi_i = int(np.argmin(mu)), int(np.argmax(mu))
    grid = np.linspace(mu[lo_i], mu[hi_i], 512)

    def logd(i: int) -> np.ndarray:
        return np.log(w[i]) - 0.5 * np.log(var[i]) - 0.5 * (grid - mu[i]) ** 2 / var[i]

    above = np.flatnonzero(logd(hi_i) >= logd(lo_i))
    return float(grid[above[0]]) if above.size else float(mu[hi_i])


def spread_cut(z: np.ndarray, k: float = SPREAD_K) -> float:
    """``mode + k * sigma`` of the unchanged mode (sigma from the lower half, see module docstring)."""
    hist, centres = _histogram(z)
    smooth = np.convolve(hist, np.ones(5) / 5, mode="same")
    mode = float(centres[int(np.argmax(smooth))])
    below = z[z <= mode]
    sigma = float(np.sqrt(np.mean((below - mode) ** 2))) if below.size >= 10 else float(np.std(z))
    return mode + k * max(sigma, 1e-6)


def scene_cut(score: np.ndarray, method: str) -> float:
    """The per-scene cut on ``score`` (values in [0, 1]) by ``method``, as a score."""
    s = np.asarray(score, np.float64).ravel()
    s = s[np.isfinite(s)]
    if method not in METHODS:
        raise ValueError(f"unknown cut {method!r}; choose one of {', '.join(METHODS)}")
    if s.size < 10 or np.ptp(s) <= 0:
        return 0.5
    z = to_z(s)
    if method == "otsu":
        from skimage.filters import threshold_otsu

        zc = float(threshold_otsu(z, nbins=BINS))
    elif method == "ki":
        zc = kittler_illingworth(z)
    elif method == "gmm":
        zc = mixture_cut(z)
    else:
        zc = spread_cut(z)
    return from_z(zc)


def cut_record(score: np.ndarray, method: str) -> dict[str, Any]:
    """The per-scene cut by ``method`` on these scores, as the scene parameters record it."""
    cut = scene_cut(score, method) if score.size else 0.5
    cut = float(min(max(cut, 1e-4), 1 - 1e-4))
    return {"method": method, "score": round(cut, 6), "z": round(float(to_z(np.array([cut]))[0]), 4)}


class WrappedDetector:
    """A detector around ``inner``: its version, bands, halo and thread safety are ``inner``'s."""

    threshold = 0.5

    def __init__(self, inner: Detector, name: str) -> None:
        self.inner = inner
        self.name = name
        self.version = inner.version
        self.required_roles = inner.required_roles
        self.halo = inner.halo
        self.thread_safe = bool(getattr(inner, "thread_safe", False))

    def halo_for(self, scene: Mapping[str, Any]) -> int:
        return window_halo(self.inner, scene)

    def window_for(self, scene: Mapping[str, Any]) -> int:
        return window_px(self.inner, scene)

    def thread_safe_for(self, scene: Mapping[str, Any]) -> bool:
        return window_thread_safe(self.inner, scene)


class SceneCutDetector(WrappedDetector):
    """``inner`` with its cut chosen per scene by ``method`` (see module docstring)."""

    def __init__(self, inner: Detector, method: str) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown cut {method!r}; choose one of {', '.join(METHODS)}")
        super().__init__(inner, f"{inner.name}:{method}")
        self.method = method

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        scene = dict(self.inner.fit_scene(before, after, valid))
        ok = np.asarray(valid, bool)
        scene["cut"] = cut_record(self.inner.detect(before, after, ok, scene).score[ok], self.method)
        return scene

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        change = self.inner.detect(before, after, valid, scene)
        return rescale_to_cut(change, float(scene["cut"]["score"]), valid, self.threshold)


def rescale_to_cut(change: ChangeMap, cut: float, valid: np.ndarray, threshold: float = 0.5) -> ChangeMap:
    """``change`` with its score mapped so that ``cut`` falls at ``threshold`` (0.5); pixels that
    rise above it without a class (below the inner cut) are classed OTHER."""
    score = rescale(change.score, cut)
    cls = np.asarray(change.change_class, np.uint8).copy()
    cls[(score > threshold) & (cls == ChangeClass.NONE)] = ChangeClass.OTHER  # below the inner cut: unclassified
    cls[score <= 0] = ChangeClass.NONE
    return ChangeMap(score=np.where(np.asarray(valid, bool), score, np.float32(0)).astype(np.float32), change_class=cls)
