"""The neighbourhood filters of the trained detector's features, through OpenCV.

The same filters as ``scipy.ndimage``'s ``gaussian_filter``, ``uniform_filter`` and ``sobel``
with ``mode="reflect"`` (OpenCV's ``BORDER_REFLECT``: ``d c b a | a b c d``), the Gaussian
with scipy's own kernel, so results agree with scipy's to within float rounding (Gaussian on
float32 <= 4e-7 relative, box on float64 <= 1e-14; ``tests/test_filters.py``) at 4-8x less
time (models/README.md, v4.6). Arrays of any size are handled as scipy does, one pixel
included. The output has the input's dtype (float32 or float64).

OpenCV's own thread pool is set to one thread: the pipeline runs windows on its threads
already (:func:`pipeline.parallel.map_windows`), and nested pools would compete for the same cores.

Training computes its features with scipy's filters (:func:`use_reference`, set by
``landpatrol train``): the shipped artifacts were trained so, and their training commands
reproduce them byte for byte only with the same float rounding.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import cv2
import numpy as np
from scipy import ndimage

cv2.setNumThreads(1)

_REFLECT = cv2.BORDER_REFLECT
_reference = False


def use_reference(on: bool = True) -> None:
    """Process-wide: compute with scipy.ndimage's filters (``on``) or OpenCV's (the default)."""
    global _reference
    _reference = bool(on)


@contextmanager
def reference() -> Iterator[None]:
    """scipy.ndimage's filters inside the block (process-wide: for training and checks)."""
    saved = _reference
    use_reference(True)
    try:
        yield
    finally:
        use_reference(saved)


def scipy_gaussian(x: np.ndarray, sigma: float, truncate: float) -> np.ndarray:
    """The reference of :func:`gaussian`."""
    return ndimage.gaussian_filter(x, sigma, mode="reflect", truncate=truncate)


def scipy_box(x: np.ndarray, size: int) -> np.ndarray:
    """The reference of :func:`box`."""
    return ndimage.uniform_filter(x, size, mode="reflect")


def scipy_sobel_magnitude(x: np.ndarray) -> np.ndarray:
    """The reference of :func:`sobel_magnitude`."""
    return np.hypot(ndimage.sobel(x, 0, mode="reflect"), ndimage.sobel(x, 1, mode="reflect"))


@cache
def gaussian_kernel(sigma: float, truncate: float) -> np.ndarray:
    """scipy's normalised Gaussian kernel of radius ``int(truncate * sigma + 0.5)``, float64."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / (float(sigma) * float(sigma)) * x ** 2)
    return phi / phi.sum()


def _c(x: np.ndarray) -> np.ndarray:
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


def gaussian(x: np.ndarray, sigma: float, truncate: float) -> np.ndarray:
    """``ndimage.gaussian_filter(x, sigma, mode="reflect", truncate=truncate)`` of a 2-D array."""
    if _reference:
        return scipy_gaussian(x, sigma, truncate)
    k = gaussian_kernel(float(sigma), float(truncate))
    return cv2.sepFilter2D(_c(x), -1, k, k, borderType=_REFLECT)


def box(x: np.ndarray, size: int) -> np.ndarray:
    """``ndimage.uniform_filter(x, size, mode="reflect")`` of a 2-D array, ``size`` odd."""
    if size % 2 != 1:
        raise ValueError(f"box filter width must be odd, got {size}")
    if _reference:
        return scipy_box(x, size)
    return cv2.blur(_c(x), (size, size), borderType=_REFLECT)


def sobel_magnitude(x: np.ndarray) -> np.ndarray:
    """``hypot(ndimage.sobel(x, 0), ndimage.sobel(x, 1))`` with ``mode="reflect"``."""
    if _reference:
        return scipy_sobel_magnitude(x)
    x = _c(x)
    gy = cv2.Sobel(x, -1, 0, 1, ksize=3, borderType=_REFLECT)
    gx = cv2.Sobel(x, -1, 1, 0, ksize=3, borderType=_REFLECT)
    return np.hypot(gy, gx)
