"""Run a detector over one whole in-memory pair, the way the pipeline does per window.

The evaluation images are small (at most a few megapixels), so the whole image is one window:
``fit_scene`` sees every valid pixel (or a regular decimation above ``max_fit_pixels``, as
:func:`pipeline.align.sample_bands` would give) and ``detect`` is called once. Pixels within
``detector.halo`` of the image edge see mirrored context, as they would at a scene edge.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from models.base import BandStack, ChangeMap, Detector
from pipeline.errors import SensorError


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
) -> PairResult:
    """Fit the detector's scene parameters and detect over the whole pair.

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
    return PairResult(change=change, mask=mask, valid=valid, scene=scene)
