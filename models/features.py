"""Per-pixel multi-temporal features with neighbourhood context (classes: :mod:`models.change_class`).

Two band sets: ``rgb`` (red, green, blue: every tile has them, aerial and drone pictures
included) and ``full`` (rgb plus nir, swir1, swir2: Sentinel-2, Landsat TM/OLI). Inputs are
already co-registered and radiometrically normalised (see :mod:`models.gbm`); differences are
divided by the scene's per-band spread (``scale``) so that features mean the same on 8-bit
pictures and on reflectance. Every neighbourhood feature is a Gaussian filter with
``truncate=3`` at sigma <= 4 (radius 12) plus one Sobel step, so a pixel's features depend on
at most :data:`FEATURE_RADIUS` pixels around it: that is what makes detection window-invariant. The context block
(:func:`context_features`) uses box filters of width <= 15 (radius 7) and stays inside it.
The optional *wide* block (:func:`wide_features`, ``wide=True``) adds box statistics over
31 and 61 px (what kind of neighbourhood a pixel sits in: built-up texture, green fields,
regional change level) and widens the radius to :data:`WIDE_RADIUS`.

The filters run through OpenCV (:mod:`models.filters`, the same numbers as scipy.ndimage's to
rounding, 4-8x faster), except the local std's Gaussians, which stay scipy's float64 sums
(:func:`_g_double`): that feature cancels in float32 (models/README.md, v4.6).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

import numpy as np

from models import filters

RGB = ("red", "green", "blue")
EXTRA = ("nir", "swir1", "swir2")
BAND_SETS: dict[str, tuple[str, ...]] = {"rgb": RGB, "full": RGB + EXTRA}
SIGMAS = (1.0, 2.0, 4.0)
TRUNCATE = 3.0
FEATURE_RADIUS = int(TRUNCATE * max(SIGMAS) + 0.5) + 1
EPS = 0.01  # reflectance floor for ratios
LR_BOXES = (3, 7, 15)   # box widths of the mean/std of the mean log-ratio
CORR_BOXES = (5, 11)    # box widths of the inter-date brightness correlation
WIDE_BOXES = (31, 61)   # box widths of the wide block (neighbourhood kind and regional change)
WIDE_RADIUS = max(WIDE_BOXES) // 2


def feature_radius(wide: bool = False) -> int:
    """Pixels of context one pixel's features depend on (the halo a window needs)."""
    return max(FEATURE_RADIUS, WIDE_RADIUS) if wide else FEATURE_RADIUS


def pixel_magnitude(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
                    roles: Sequence[str], scale: Mapping[str, float]) -> np.ndarray:
    """Per-pixel change magnitude ``sqrt(sum(((after - before) / scale) ** 2))`` over ``roles``."""
    total = np.zeros(np.shape(before[roles[0]]), np.float32)
    for r in roles:
        d = (np.asarray(after[r], np.float32) - np.asarray(before[r], np.float32)) / np.float32(scale[r])
        total += d * d
    return np.sqrt(total)


def band_set_for(roles: set[str] | frozenset[str]) -> str:
    """The richest band set the roles cover."""
    return "full" if set(BAND_SETS["full"]) <= set(roles) else "rgb"


def _sum(arrays: Iterable[np.ndarray]) -> np.ndarray:
    """``sum()`` of arrays, typed as an array (the same additions, in the same order)."""
    return cast(np.ndarray, sum(arrays))


def _g(x: np.ndarray, sigma: float) -> np.ndarray:
    return filters.gaussian(x, sigma, TRUNCATE)


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a - b) / (a + b + EPS)


def _g_double(x: np.ndarray, sigma: float) -> np.ndarray:
    """scipy's Gaussian (float64 sums rounded once to float32): the local std below cancels
    ``E[x2] - E[x]2`` in float32, where the OpenCV filter's float32 rounding would move the
    texture features by up to 2e-4 (models/README.md, v4.6)."""
    return filters.scipy_gaussian(x, sigma, TRUNCATE)


def _local_std(x: np.ndarray, sigma: float) -> np.ndarray:
    m = _g_double(x, sigma)
    return np.sqrt(np.maximum(_g_double(x * x, sigma) - m * m, 0.0))


def _grad(x: np.ndarray) -> np.ndarray:
    return filters.sobel_magnitude(_g(x, 1.0))


def feature_names(band_set: str, wide: bool = False) -> list[str]:
    names = [f"dz_{r}" for r in RGB] + [f"lr_{r}" for r in RGB]
    names += ["bright_b", "bright_a", "dbright", "exg_b", "exg_a", "dexg", "cva", "angle", "cva_rel"]
    names += [f"cva_g{s:g}" for s in SIGMAS] + [f"cva_smooth{s:g}" for s in SIGMAS]
    names += ["tex_b", "tex_a", "tex_lr", "grad_b", "grad_a", "grad_d", "cva_contrast", "dbright_g2", "dexg_g2"]
    if band_set == "full":
        names += [f"dz_{r}" for r in EXTRA] + [f"lr_{r}" for r in EXTRA]
        for idx in ("ndvi", "ndbi", "mndwi"):
            names += [f"{idx}_b", f"{idx}_a", f"{idx}_d"]
        names += ["ndvi_d_g2", "ndbi_d_g2", "cvaf", "cvaf_g2", "cvaf_g4", "cvaf_smooth2", "cvaf_rel"]
    return names + context_names() + (wide_names() if wide else [])


def context_names() -> list[str]:
    names = []
    for k in LR_BOXES:
        names += [f"lr_mean_b{k}", f"lr_std_b{k}"]
    names += [f"corr_b{k}" for k in CORR_BOXES]
    return names + ["sam", "sam_b3", "sam_b7", "edge_change_b5"]


def _box(x: np.ndarray, k: int) -> np.ndarray:
    return filters.box(x, k)


def context_features(b: Mapping[str, np.ndarray], a: Mapping[str, np.ndarray], roles: tuple[str, ...]) -> list[np.ndarray]:
    """Neighbourhood context over the band set's ``roles`` (order of :func:`context_names`).

    Mean and std of the band-averaged log-ratio in 3, 7 and 15 px boxes (a whole changed
    object against a speck); local correlation of before/after brightness (structure kept
    under an illumination or season change stays correlated, a new building does not);
    spectral angle over all roles, raw and box-smoothed; relative change of edge strength.
    Computed in float64: the box variances cancel badly in float32.
    """
    b64 = {r: b[r].astype(np.float64) for r in roles}
    a64 = {r: a[r].astype(np.float64) for r in roles}
    lr = _sum(np.log((a64[r] + EPS) / (b64[r] + EPS)) for r in roles) / len(roles)
    out: list[np.ndarray] = []
    for k in LR_BOXES:
        m = _box(lr, k)
        out += [m, np.sqrt(np.maximum(_box(lr * lr, k) - m * m, 0.0))]
    bb = _sum(b64[r] for r in RGB) / 3.0
    aa = _sum(a64[r] for r in RGB) / 3.0
    for k in CORR_BOXES:
        mb, ma = _box(bb, k), _box(aa, k)
        cov = _box(bb * aa, k) - mb * ma
        vb = np.maximum(_box(bb * bb, k) - mb * mb, 0.0)
        va = np.maximum(_box(aa * aa, k) - ma * ma, 0.0)
        out.append(cov / np.sqrt(vb * va + 1e-8))
    dot = sum(a64[r] * b64[r] for r in roles)
    norm = np.sqrt(sum(a64[r] ** 2 for r in roles) * sum(b64[r] ** 2 for r in roles)) + 1e-6
    sam = np.arccos(np.clip(dot / norm, -1.0, 1.0))
    out += [sam, _box(sam, 3), _box(sam, 7)]
    gb = np.hypot(*np.gradient(_g(bb, 1.0)))
    ga = np.hypot(*np.gradient(_g(aa, 1.0)))
    out.append(_box(np.abs(ga - gb), 5) / (_box(ga + gb, 5) + 1e-4))
    return out


def wide_names() -> list[str]:
    names = []
    for k in WIDE_BOXES:
        names += [f"lr_mean_b{k}", f"lr_std_b{k}", f"bright_b_b{k}", f"tex_b_b{k}", f"exg_b_b{k}",
                  f"cva_b{k}", f"cva_over_b{k}", f"sam_b{k}"]
    return names


def wide_features(b: Mapping[str, np.ndarray], a: Mapping[str, np.ndarray], roles: tuple[str, ...],
                  cva: np.ndarray, bright_mean: float) -> list[np.ndarray]:
    """The wide block, order of :func:`wide_names`; every input is per pixel, so radius = box // 2.

    Per box width: mean and std of the band-averaged log-ratio (regional change against local
    change); before-date brightness mean and std (built-up texture) and excess-green mean
    (fields, forest); mean CVA and the pixel's CVA over it (stands out from its surroundings,
    or is a whole region shifting: season, haze); mean spectral angle.
    """
    b64 = {r: b[r].astype(np.float64) for r in roles}
    a64 = {r: a[r].astype(np.float64) for r in roles}
    lr = _sum(np.log((a64[r] + EPS) / (b64[r] + EPS)) for r in roles) / len(roles)
    bb = _sum(b64[r] for r in RGB) / 3.0 / max(bright_mean, 1e-6)
    exg = (2 * b64["green"] - b64["red"] - b64["blue"]) / (b64["red"] + b64["green"] + b64["blue"] + EPS)
    dot = sum(a64[r] * b64[r] for r in roles)
    norm = np.sqrt(sum(a64[r] ** 2 for r in roles) * sum(b64[r] ** 2 for r in roles)) + 1e-6
    sam = np.arccos(np.clip(dot / norm, -1.0, 1.0))
    c64 = cva.astype(np.float64)
    out: list[np.ndarray] = []
    for k in WIDE_BOXES:
        m, mb = _box(lr, k), _box(bb, k)
        mc = _box(c64, k)
        out += [m, np.sqrt(np.maximum(_box(lr * lr, k) - m * m, 0.0)),
                mb, np.sqrt(np.maximum(_box(bb * bb, k) - mb * mb, 0.0)), _box(exg, k),
                mc, c64 / (mc + 0.1), _box(sam, k)]
    return out


def indices(s: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Spectral indices of one date; only those its bands allow."""
    out = {
        "bright": (s["red"] + s["green"] + s["blue"]) / 3.0,
        "exg": (2 * s["green"] - s["red"] - s["blue"]) / (s["red"] + s["green"] + s["blue"] + EPS),
    }
    if "nir" in s:
        out["ndvi"] = _nd(s["nir"], s["red"])
    if "swir1" in s and "nir" in s:
        out["ndbi"] = _nd(s["swir1"], s["nir"])
        out["mndwi"] = _nd(s["green"], s["swir1"])
    return out


def compute_features(
    before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], scene: Mapping, band_set: str,
    wide: bool = False,
) -> np.ndarray:
    """(n_features, rows, cols) float32; NaN inputs must already be filled.

    ``scene`` gives ``scale`` (role -> spread of the before band), ``bright_mean`` and
    ``cva_ref``/``cvaf_ref`` (scene 90th percentiles of the change magnitudes).
    """
    roles = BAND_SETS[band_set]
    b = {r: before[r].astype(np.float32) for r in roles}
    a = {r: after[r].astype(np.float32) for r in roles}
    sc = scene["scale"]
    dz = {r: (a[r] - b[r]) / np.float32(sc[r]) for r in roles}
    ib, ia = indices(b), indices(a)
    bm = np.float32(scene["bright_mean"])
    cva = np.sqrt(sum(dz[r] ** 2 for r in RGB))
    dot = sum(a[r] * b[r] for r in RGB)
    norm = np.sqrt(sum(a[r] ** 2 for r in RGB) * sum(b[r] ** 2 for r in RGB)) + 1e-6
    f: list[np.ndarray] = [dz[r] for r in RGB]
    f += [np.log((a[r] + EPS) / (b[r] + EPS)) for r in RGB]
    f += [ib["bright"] / bm, ia["bright"] / bm, (ia["bright"] - ib["bright"]) / bm]
    f += [ib["exg"], ia["exg"], ia["exg"] - ib["exg"], cva, np.arccos(np.clip(dot / norm, -1, 1))]
    f += [cva / np.float32(scene["cva_ref"])]
    cva_g = {s: _g(cva, s) for s in SIGMAS}
    f += [cva_g[s] for s in SIGMAS]
    for s in SIGMAS:
        f.append(np.sqrt(sum(((_g(a[r], s) - _g(b[r], s)) / np.float32(sc[r])) ** 2 for r in RGB)))
    tb, ta = _local_std(ib["bright"], 2.0) / bm, _local_std(ia["bright"], 2.0) / bm
    gb, ga = _grad(ib["bright"]) / bm, _grad(ia["bright"]) / bm
    f += [tb, ta, np.log((ta + 1e-3) / (tb + 1e-3)), gb, ga, ga - gb, cva - cva_g[4.0]]
    f += [_g((ia["bright"] - ib["bright"]) / bm, 2.0), _g(ia["exg"] - ib["exg"], 2.0)]
    if band_set == "full":
        f += [dz[r] for r in EXTRA] + [np.log((a[r] + EPS) / (b[r] + EPS)) for r in EXTRA]
        for idx in ("ndvi", "ndbi", "mndwi"):
            f += [ib[idx], ia[idx], ia[idx] - ib[idx]]
        f += [_g(ia["ndvi"] - ib["ndvi"], 2.0), _g(ia["ndbi"] - ib["ndbi"], 2.0)]
        cvaf = np.sqrt(sum(dz[r] ** 2 for r in roles))
        smooth = np.sqrt(sum(((_g(a[r], 2.0) - _g(b[r], 2.0)) / np.float32(sc[r])) ** 2 for r in roles))
        f += [cvaf, _g(cvaf, 2.0), _g(cvaf, 4.0), smooth, cvaf / np.float32(scene["cvaf_ref"])]
    f += context_features(b, a, roles)
    if wide:
        f += wide_features(b, a, roles, cva, float(bm))
    return np.stack([x.astype(np.float32, copy=False) for x in f])
