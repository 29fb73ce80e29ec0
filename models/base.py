"""The detector interface: what the pipeline hands a detector and what it gets back.

The pipeline reads both tiles onto one grid, window by window, and gives the detector
*band stacks*: a mapping from band role (``blue``, ``green``, ``red``, ``nir``, ``swir1``,
``swir2``) to a 2-D float32 array of reflectance scaled by the sensor profile (nominally 0..1;
NaN where the pixel is nodata or cloud on that date). ``valid`` is True where both dates hold
usable data. A detector must return exactly the same values for a pixel whatever window it is
computed in, as long as the window carries ``halo`` pixels of context on each side; scene-wide
statistics (normalisation, thresholds) come from :meth:`Detector.fit_scene`, which the
pipeline calls once on a decimated sample of the whole overlap before any window.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

BandStack = Mapping[str, np.ndarray]
"""Band role -> (rows, cols) float32 reflectance; NaN where that date is invalid."""


class ChangeMap:
    """Per-pixel output of a detector for one window.

    ``score``: float32 in [0, 1], 0 where not valid. ``change_class``: uint8
    :class:`pipeline.classes.ChangeClass` values, 0 where no change. A detector whose class is
    a per-pixel rule may give ``classes_of`` instead (``mask -> classes``, a full-size uint8
    array with the class of the pixels in ``mask`` and 0 elsewhere): the pipeline then asks
    (:meth:`class_where`) only for the pixels it flags, and ``change_class`` is computed, for
    every pixel, the first time it is read. Both give the same class for any pixel.
    """

    __slots__ = ("score", "_change_class", "_classes_of")

    def __init__(self, score: np.ndarray, change_class: np.ndarray | None = None,
                 classes_of: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if change_class is None and classes_of is None:
            raise ValueError("a change map needs change_class or classes_of")
        if change_class is not None and np.shape(score) != np.shape(change_class):
            raise ValueError(
                f"score shape {np.shape(score)} != change_class shape {np.shape(change_class)}"
            )
        self.score = score
        self._change_class = change_class
        self._classes_of = classes_of

    @property
    def change_class(self) -> np.ndarray:
        if self._change_class is None:
            assert self._classes_of is not None
            self._change_class = self._classes_of(np.ones(np.shape(self.score), bool))
        return self._change_class

    def class_where(self, mask: np.ndarray) -> np.ndarray:
        """The class of the pixels in ``mask``, 0 elsewhere (uint8, the window's shape)."""
        mask = np.asarray(mask, bool)
        if self._change_class is None and self._classes_of is not None:
            return np.asarray(self._classes_of(mask), np.uint8)
        return np.where(mask, self.change_class, 0).astype(np.uint8)


@runtime_checkable
class Detector(Protocol):
    name: str
    version: str
    required_roles: frozenset[str]   # the detector refuses tiles lacking any of these
    halo: int                        # context pixels needed around each window
    threshold: float                 # default score above which a pixel counts as changed

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        """Scene-level parameters from a decimated sample; JSON-serialisable (recorded per run)."""
        ...

    def detect(
        self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]
    ) -> ChangeMap:
        """Change score and class for one window (with halo)."""
        ...


DEFAULT_WINDOW_PX = 1024
"""Side of a detection window for detectors that state no ``window_px`` of their own."""


def window_halo(detector: Detector, scene: Mapping[str, Any]) -> int:
    """Context pixels a window needs for this scene: ``detector.halo_for(scene)`` where the
    detector resolves a member per scene (``auto``), else ``detector.halo``. A per-pixel
    member under ``auto`` needs none, though ``auto.halo`` covers its widest member."""
    fn = getattr(detector, "halo_for", None)
    return int(fn(scene)) if callable(fn) else int(detector.halo)


def window_px(detector: Detector, scene: Mapping[str, Any]) -> int:
    """The detector's window side for this scene (``window_for(scene)``, ``window_px`` or
    :data:`DEFAULT_WINDOW_PX`). Results do not depend on it; memory and speed do: a trained
    detector's per-window features are tens of bytes a pixel."""
    fn = getattr(detector, "window_for", None)
    if callable(fn):
        return int(fn(scene))
    return int(getattr(detector, "window_px", DEFAULT_WINDOW_PX))


def window_thread_safe(detector: Detector, scene: Mapping[str, Any]) -> bool:
    """Whether this scene's windows may run on several threads (``thread_safe_for(scene)`` or
    ``thread_safe``)."""
    fn = getattr(detector, "thread_safe_for", None)
    return bool(fn(scene)) if callable(fn) else bool(getattr(detector, "thread_safe", False))


def rescale(prob: np.ndarray, cut: float) -> np.ndarray:
    """Monotone map of [0, 1] onto [0, 1] sending ``cut`` to 0.5."""
    cut = float(min(max(cut, 1e-6), 1 - 1e-6))
    low = 0.5 * prob / cut
    high = 0.5 + 0.5 * (prob - cut) / (1.0 - cut)
    return np.clip(np.where(prob <= cut, low, high), 0.0, 1.0).astype(np.float32)
