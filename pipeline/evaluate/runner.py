"""Run a detector over one whole in-memory pair, the way the pipeline does per window.

The evaluation images are small (at most a few megapixels), so the whole image is one window:
``fit_scene`` sees every valid pixel (or a regular decimation above ``max_fit_pixels``, as
:func:`pipeline.align.sample_bands` would give) and ``detect`` is called once. Pixels within
``detector.halo`` of the image edge see mirrored context, as they would at a scene edge.

By default the binary mask is scored *after the product's object-level clean-up*
(:class:`PostProcess`): the opening with a square ``(2r+1)`` footprint and the minimum
mapping unit that :func:`pipeline.detect.detect_pair` applies before any lead exists, with
the same defaults (:class:`pipeline.detect.DetectParams`). It is applied identically to every
detector, the naive baseline included; ``PostProcess.raw()`` scores the pixel mask instead.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from models.base import BandStack, ChangeMap, Detector
from pipeline.detect import DetectParams
from pipeline.errors import SensorError
from pipeline.patches import clean_mask, remove_small


@dataclass(frozen=True)
class PostProcess:
    """The product's clean-up of the change mask, for scoring what leads are made of.

    ``min_area_m2`` applies when the pixel size is known (georeferenced data); otherwise only
    ``min_pixels`` does, exactly as :meth:`DetectParams.mmu_pixels` would on a coarse grid.
    """

    opening_radius_px: int = DetectParams().opening_radius_px
    min_area_m2: float = DetectParams().min_area_m2
    min_pixels: int = DetectParams().min_pixels

    @classmethod
    def raw(cls) -> PostProcess:
        """No clean-up: the pixel mask ``score > threshold`` is scored as is."""
        return cls(opening_radius_px=0, min_area_m2=0.0, min_pixels=1)

    def mmu_pixels(self, pixel_area: float | None) -> int:
        if pixel_area is None or pixel_area <= 0:
            return self.min_pixels
        return DetectParams(min_area_m2=self.min_area_m2, min_pixels=self.min_pixels).mmu_pixels(pixel_area)

    def apply(self, mask: np.ndarray, pixel_area: float | None = None) -> np.ndarray:
        return remove_small(clean_mask(mask, self.opening_radius_px), self.mmu_pixels(pixel_area))

    def describe(self, pixel_area: float | None = None) -> dict[str, object]:
        return {"opening_radius_px": self.opening_radius_px, "mmu_pixels": self.mmu_pixels(pixel_area),
                "min_area_m2": self.min_area_m2, "pixel_area_m2": pixel_area}


@dataclass(frozen=True)
class PairResult:
    """Score, class and the binary change mask (``score > threshold`` on valid pixels)."""

    change: ChangeMap
    mask: np.ndarray
    valid: np.ndarray
    scene: Mapping[str, object]


def common_roles(before: BandStack, after: BandStack) -> list[str]:
    return [r for r in before if r in after]


def pair_valid(before: BandStack, after: BandStack) -> np.ndarray:
    """True where every band of both dates is finite."""
    roles = common_roles(before, after)
    valid = np.ones(next(iter(before.values())).shape, bool)
    for r in roles:
        valid &= np.isfinite(before[r]) & np.isfinite(after[r])
    return valid


def _decimate(stack: BandStack, step: int) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v[::step, ::step]) for k, v in stack.items()}


def run_pair(
    detector: Detector,
    before: BandStack,
    after: BandStack,
    source: str,
    threshold: float | None = None,
    max_fit_pixels: int = 1_000_000,
    post: PostProcess | None = None,
    pixel_area: float | None = None,
) -> PairResult:
    """Fit the detector's scene parameters and detect over the whole pair.

    ``mask`` is cleaned by ``post`` (default :class:`PostProcess`, the product's clean-up;
    ``pixel_area`` in m2 when the pair is georeferenced).

    Raises :class:`SensorError` (naming ``source``) when the pair lacks a role the detector needs.
    """
    roles = set(common_roles(before, after))
    missing = sorted(set(detector.required_roles) - roles)
    if missing:
        raise SensorError(source, f"detector {detector.name!r} needs bands {', '.join(missing)} the pair lacks")
    b = {r: np.asarray(before[r], np.float32) for r in before if r in roles}
    a = {r: np.asarray(after[r], np.float32) for r in after if r in roles}
    valid = pair_valid(b, a)
    n = valid.size
    step = max(1, math.ceil(math.sqrt(n / max_fit_pixels)))
    scene = detector.fit_scene(_decimate(b, step), _decimate(a, step), valid[::step, ::step])
    change = detector.detect(b, a, valid, scene)
    cut = detector.threshold if threshold is None else threshold
    mask = (change.score > cut) & valid
    mask = (post or PostProcess()).apply(mask, pixel_area) & valid
    return PairResult(change=change, mask=mask, valid=valid, scene=scene)
