"""models/filters.py (OpenCV) against scipy.ndimage's filters: the same numbers to within rounding,
on synthetic arrays of every size and on the trained detector's features of real pairs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

import models.features as F
from lab.filters_check import both
from models import filters
from models.filters import scipy_box, scipy_gaussian, scipy_sobel_magnitude

SHAPES = [(1, 1), (1, 9), (4, 3), (13, 40), (25, 2), (64, 64), (97, 130)]


@pytest.mark.parametrize("shape", SHAPES)
def test_gaussian_matches_scipy_on_any_size(shape: tuple[int, int]) -> None:
    x = np.random.default_rng(0).uniform(0, 3, shape).astype(np.float32)
    for sigma in (*F.SIGMAS, 0.5, 3.0):
        out = filters.gaussian(x, sigma, F.TRUNCATE)
        assert out.dtype == np.float32 and out.shape == shape
        np.testing.assert_allclose(out, scipy_gaussian(x, sigma, F.TRUNCATE), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_box_matches_scipy_on_any_size(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(1)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        x = rng.normal(0, 2, shape).astype(dtype)
        for k in (*F.LR_BOXES, *F.CORR_BOXES, *F.WIDE_BOXES, 7):
            out = filters.box(x, k)
            assert out.dtype == dtype
            np.testing.assert_allclose(out, scipy_box(x, k), rtol=tol, atol=tol)


def test_sobel_magnitude_matches_scipy() -> None:
    x = np.random.default_rng(2).uniform(0, 1, (50, 61)).astype(np.float32)
    np.testing.assert_allclose(filters.sobel_magnitude(x), scipy_sobel_magnitude(x), rtol=1e-5, atol=1e-6)


def test_reference_switches_to_scipy_and_back() -> None:
    x = np.random.default_rng(3).uniform(0, 1, (40, 40)).astype(np.float32)
    fast = filters.gaussian(x, 2.0, 3.0)
    with filters.reference():
        assert np.array_equal(filters.gaussian(x, 2.0, 3.0), scipy_gaussian(x, 2.0, 3.0))
        assert np.array_equal(filters.box(x, 5), scipy_box(x, 5))
        assert np.array_equal(filters.sobel_magnitude(x), scipy_sobel_magnitude(x))
    assert np.array_equal(filters.gaussian(x, 2.0, 3.0), fast)
    assert not np.array_equal(fast, scipy_gaussian(x, 2.0, 3.0))  # OpenCV's own rounding


def test_box_refuses_even_width() -> None:
    with pytest.raises(ValueError, match="odd"):
        filters.box(np.zeros((5, 5)), 4)


def test_non_contiguous_and_integer_input() -> None:
    x = np.arange(400, dtype=np.float32).reshape(20, 20)[::2, 1::3]
    np.testing.assert_allclose(filters.gaussian(x, 1.0, 3.0), scipy_gaussian(np.ascontiguousarray(x), 1.0, 3.0), rtol=1e-6)
    xi = np.arange(100).reshape(10, 10)
    np.testing.assert_allclose(filters.box(xi, 3), scipy_box(xi.astype(np.float64), 3), rtol=1e-12)


def _close(new: np.ndarray, ref: np.ndarray) -> float:
    """Worst |new - ref| / max(1, |ref|) (absolute, or relative where larger)."""
    return float(np.max(np.abs(new.astype(np.float64) - ref) / np.maximum(1.0, np.abs(ref))))


@pytest.mark.realdata
def test_features_of_a_real_sentinel2_city_match_scipy(shared_data: Path) -> None:
    """Every feature of both band sets and the wide block on OSCD Montpellier within 1e-5
    (models/README.md, v4.6 rule 1)."""
    from pipeline.evaluate.oscd import read_city

    city = read_city(shared_data / "oscd", "montpellier")   # reflectance (0..1), as the detectors get it
    win = (slice(0, 300), slice(0, 300))
    b = {r: np.asarray(v[win], np.float32) for r, v in city.before.items()}
    a = {r: np.asarray(v[win], np.float32) for r, v in city.after.items()}
    assert 0.01 < float(np.nanmedian(b["red"])) < 1.0
    for band_set, wide in (("full", True), ("rgb", False)):
        new, ref = both(b, a, band_set, wide)
        worst = [_close(n, r) for n, r in zip(new, ref)]
        names = F.feature_names(band_set, wide)
        assert max(worst) <= 1e-5, f"{band_set}: {names[int(np.argmax(worst))]} differs by {max(worst):.2e}"


@pytest.mark.realdata
def test_features_of_a_real_aerial_pair_match_scipy(shared_data: Path) -> None:
    """The rgb features on an 8-bit aerial pair (SZTAKI Archieve) within 1e-5."""
    folder = shared_data / "aerial" / "Archieve"
    stacks = []
    for name in ("im1.bmp", "im2.bmp"):
        with rasterio.open(folder / name) as src:
            px = src.read(window=((0, 320), (0, 320))).astype(np.float32)
        stacks.append({"red": px[0], "green": px[1], "blue": px[2]})
    new, ref = both(stacks[0], stacks[1], "rgb", False)
    worst = [_close(n, r) for n, r in zip(new, ref)]
    assert max(worst) <= 1e-5, f"{F.feature_names('rgb')[int(np.argmax(worst))]} differs by {max(worst):.2e}"
