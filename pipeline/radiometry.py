"""Relative radiometric normalisation of the after date onto the before date.

Season, sun angle and atmosphere change every band by roughly a gain and an offset. Those are
estimated per band by regression on pseudo-invariant features (PIFs): the pixels whose
standardised change is smallest, which are unlikely to have really changed. The fit is an
iteratively trimmed least squares (points beyond 3 robust standard deviations dropped), so the
few changed pixels that slip into the PIF set do not tilt it.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

Linear = tuple[float, float]  # (gain, offset): after_normalised = gain * after + offset


def pseudo_invariant(
    before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], valid: np.ndarray,
    quantile: float = 0.3,
) -> np.ndarray:
    """Bool mask of the ``quantile`` share of valid pixels with the least standardised change."""
    roles = [r for r in before if r in after]
    total = np.zeros(valid.shape, np.float64)
    for r in roles:
        b, a = before[r], after[r]
        zb = (b - np.nanmean(b[valid])) / (np.nanstd(b[valid]) or 1.0)
        za = (a - np.nanmean(a[valid])) / (np.nanstd(a[valid]) or 1.0)
        total += np.nan_to_num((za - zb) ** 2, nan=np.inf)
    if not valid.any():
        return valid.copy()
    cut = np.quantile(total[valid], quantile)
    return valid & (total <= cut)


def robust_line(x: np.ndarray, y: np.ndarray, iterations: int = 3) -> Linear:
    """Gain and offset of ``y ~ gain * x + offset`` by trimmed least squares."""
    keep = np.isfinite(x) & np.isfinite(y)
    gain, offset = 1.0, 0.0
    for _ in range(iterations):
        if keep.sum() < 10 or np.ptp(x[keep]) == 0:
            break
        gain, offset = (float(v) for v in np.polyfit(x[keep], y[keep], 1))
        resid = y - (gain * x + offset)
        mad = float(np.median(np.abs(resid[keep] - np.median(resid[keep])))) * 1.4826
        if mad == 0:
            break
        keep = keep & (np.abs(resid) <= 3.0 * mad)
    if not np.isfinite(gain) or gain <= 0:
        return (1.0, 0.0)
    return (gain, offset)


def fit_normalisation(
    before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray], valid: np.ndarray,
    quantile: float = 0.3, max_points: int = 200_000,
) -> dict[str, Linear]:
    """Per band ``(gain, offset)`` mapping the after date onto the before date's radiometry."""
    pif = pseudo_invariant(before, after, valid, quantile)
    idx = np.flatnonzero(pif.ravel())
    if idx.size > max_points:
        idx = idx[:: idx.size // max_points + 1]
    return {
        r: robust_line(after[r].ravel()[idx].astype(np.float64), before[r].ravel()[idx].astype(np.float64))
        for r in before if r in after
    }


def apply_normalisation(after: Mapping[str, np.ndarray], params: Mapping[str, Linear]) -> dict[str, np.ndarray]:
    """The after date with each band's ``gain * band + offset`` (bands without params unchanged)."""
    out = {}
    for r, band in after.items():
        gain, offset = params.get(r, (1.0, 0.0))
        out[r] = (band * np.float32(gain) + np.float32(offset)).astype(np.float32)
    return out
