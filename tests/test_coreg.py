from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pipeline.coreg import apply_shift, estimate_shift


def _texture(seed: int = 0, shape: tuple[int, int] = (128, 128)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), 2.0).astype(np.float32)


@pytest.mark.parametrize("dy,dx", [(0.4, -0.7), (-1.3, 0.25), (0.0, 0.0)])
def test_recovers_subpixel_shift(dy: float, dx: float) -> None:
    before = _texture()
    after = ndimage.shift(before, (-dy, -dx), order=3, mode="grid-wrap")  # after is before moved by -shift
    est = estimate_shift(before, after)
    assert est == pytest.approx((dy, dx), abs=0.1)
    fixed = apply_shift(after, *est)
    inner = (slice(8, -8), slice(8, -8))
    assert np.abs(fixed - before)[inner].mean() < 0.25 * np.abs(after - before)[inner].mean() + 1e-6


def test_nan_tolerated_and_kept() -> None:
    before = _texture(1)
    after = ndimage.shift(before, (0.0, -0.5), order=3, mode="grid-wrap")
    after[:10, :10] = np.nan
    dy, dx = estimate_shift(before, after)
    assert dx == pytest.approx(0.5, abs=0.15)
    assert np.isnan(apply_shift(after, dy, dx)[:8, :8]).all()


def test_implausible_shift_is_refused() -> None:
    before = _texture(2)
    after = np.roll(before, 9, axis=1)
    assert estimate_shift(before, after) == (0.0, 0.0)


def test_blank_input_gives_zero() -> None:
    z = np.zeros((32, 32), np.float32)
    assert estimate_shift(z, z) == (0.0, 0.0)


def test_driver_estimates_the_shift_at_full_resolution() -> None:
    """fit_scene's decimated sample cannot see a sub-pixel shift; the driver re-estimates it on a
    central full-resolution window and that is the shift the detector applies."""
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from pipeline.detect import fit_scene
    from pipeline.grid import Grid

    dy, dx = 0.6, -0.4
    before = _texture(7, (600, 600))
    after = ndimage.shift(before, (-dy, -dx), order=3, mode="grid-wrap")

    class Reader:
        def __init__(self, band: np.ndarray) -> None:
            self.band = band

        def read(self, window: Window, halo: int = 0):
            r, c, h, w = int(window.row_off), int(window.col_off), int(window.height), int(window.width)
            v = self.band[r:r + h, c:c + w]
            return {k: v.copy() for k in ("red", "green", "blue")}, np.ones(v.shape, bool)

        def sample(self, max_pixels: int):
            v = self.band[::10, ::10]
            return {k: v.copy() for k in ("red", "green", "blue")}, np.ones(v.shape, bool)

    class ShiftingDetector:
        name, version, halo, threshold = "stub", "0", 0, 0.5
        required_roles = frozenset({"red", "green", "blue"})

        def fit_scene(self, b, a, valid):
            return {"shift": list(estimate_shift(b["red"], a["red"]))}

    grid = Grid("EPSG:32650", from_origin(0, 6000, 10, 10), 600, 600)
    decimated = fit_scene(Reader(before), Reader(after), ShiftingDetector(), 3600)
    assert abs(decimated["shift"][0] - dy) > 0.3  # the sample's own estimate is in the wrong pixels
    scene = fit_scene(Reader(before), Reader(after), ShiftingDetector(), 3600, grid)
    assert scene["shift"] == pytest.approx([dy, dx], abs=0.1)
