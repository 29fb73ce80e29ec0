"""Change-class rules shared by every detector: what a lead shows (construction, bare soil, ...).

One rule set, so a patch gets the same class whichever detector found it. The rules read the
before date and the radiometrically normalised after date, and use what the bands allow:
NDVI when nir is present (4-band drone, Gaofen-1/2 and PlanetScope tiles included), else
excess-green; MNDWI with swir1, NDWI with nir, else a dark-and-bluish RGB rule for water.
Green-up (crop growth), harvest and ploughing are never construction: tested on the real
Slovenia NDVI series (``tests/test_clouds_phenology.py``).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.base import BandStack
from pipeline.classes import ChangeClass

# index thresholds (reflectance indices, dimensionless)
NDVI_VEGETATED = 0.3      # before: vegetated
NDVI_BARE = 0.2           # after: not vegetated
NDVI_DROP = 0.15          # vegetation loss
EXG_VEGETATED = 0.08      # RGB-only: excess-green (2g - r - b) / (r + g + b)
EXG_BARE = 0.05
EXG_DROP = 0.05
WATER_INDEX = 0.0         # MNDWI / NDWI above this after (and not before) = new water
GREY_BLUE_RED = 0.8       # blue >= 0.8 * red after: grey/blue roof or concrete, not reddish soil
BRIGHTER = 1.1            # visible brightness after >= 1.1 x before
RGB_WATER_DARK = 0.6      # RGB-only: visible brightness after <= 0.6 x before ...
RGB_WATER_MAX = 0.08      # ... and below this reflectance


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(a - b) / (a + b), 0 where the sum is 0."""
    s = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(s != 0, (a - b) / s, 0.0)
    return out


def _exg(bands: BandStack) -> np.ndarray:
    s = bands["red"] + bands["green"] + bands["blue"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, (2 * bands["green"] - bands["red"] - bands["blue"]) / s, 0.0)


def _brightness(bands: BandStack) -> np.ndarray:
    return (bands["red"] + bands["green"] + bands["blue"]) / 3.0


def classify(before: BandStack, after: BandStack) -> np.ndarray:
    """Change class per pixel from the before and (normalised) after reflectance.

    First match wins: new water (MNDWI with swir1, else NDWI with nir, else RGB: much darker,
    bluish, not green) -> new structure (after not vegetated, grey/blue spectrum ``blue >= 0.8 red``
    typical of concrete and the blue steel sheds of rural construction, brighter than before) ->
    vegetation to bare soil (vegetated before, not after, reddish soil spectrum) -> vegetation
    loss (NDVI / excess-green drop) -> other. Vegetation uses NDVI when nir is present, else
    excess-green.
    """
    has_nir = "nir" in before and "nir" in after
    if has_nir:
        vi_b, vi_a = _ratio(before["nir"], before["red"]), _ratio(after["nir"], after["red"])
        vegetated, bare, drop = NDVI_VEGETATED, NDVI_BARE, NDVI_DROP
    else:
        vi_b, vi_a = _exg(before), _exg(after)
        vegetated, bare, drop = EXG_VEGETATED, EXG_BARE, EXG_DROP
    br_b, br_a = _brightness(before), _brightness(after)

    if "swir1" in before and "swir1" in after:
        wi_b, wi_a = _ratio(before["green"], before["swir1"]), _ratio(after["green"], after["swir1"])
        water = (wi_a > WATER_INDEX) & (wi_b <= WATER_INDEX)
    elif has_nir:
        wi_b, wi_a = _ratio(before["green"], before["nir"]), _ratio(after["green"], after["nir"])
        water = (wi_a > WATER_INDEX) & (wi_b <= WATER_INDEX)
    else:
        water = ((br_a <= RGB_WATER_DARK * br_b) & (br_a < RGB_WATER_MAX)
                 & (after["blue"] >= after["red"]) & (vi_a < bare))

    not_veg_after = vi_a < bare
    grey = after["blue"] >= GREY_BLUE_RED * after["red"]
    brighter = br_a >= BRIGHTER * br_b
    construction = not_veg_after & grey & brighter
    bare_soil = (vi_b >= vegetated) & not_veg_after & ~grey
    veg_loss = (vi_b - vi_a) >= drop

    cls = np.full(vi_b.shape, ChangeClass.OTHER, np.uint8)
    cls[veg_loss] = ChangeClass.VEGETATION_LOSS
    cls[bare_soil] = ChangeClass.BARE_SOIL
    cls[construction] = ChangeClass.CONSTRUCTION
    cls[water] = ChangeClass.WATER
    return cls


def classify_changed(before: BandStack, after: BandStack, changed: np.ndarray) -> np.ndarray:
    """:func:`classify` where ``changed``, :attr:`ChangeClass.NONE` elsewhere."""
    return classes_where(before, after, changed)(np.ones(np.shape(changed), bool))


def classes_where(before: BandStack, after: BandStack, keep: np.ndarray,
                  normalise: Callable[[BandStack], BandStack] | None = None,
                  ) -> Callable[[np.ndarray], np.ndarray]:
    """``mask -> classes`` for :class:`models.base.ChangeMap`: :func:`classify` on the pixels
    of ``mask`` that ``keep`` allows (the after date through ``normalise`` first),
    :attr:`ChangeClass.NONE` elsewhere. The rules are per pixel, so a pixel gets the class it
    gets when the whole window is classified; a run classifies only what it flags (most of a
    scene is not), instead of every valid pixel."""
    keep = np.asarray(keep, bool)

    def of(mask: np.ndarray) -> np.ndarray:
        m = np.asarray(mask, bool) & keep
        out = np.full(keep.shape, ChangeClass.NONE, np.uint8)
        if m.any():
            b = {r: np.asarray(v)[m] for r, v in before.items()}
            a = {r: np.asarray(v)[m] for r, v in after.items()}
            with np.errstate(invalid="ignore", divide="ignore"):
                out[m] = classify(b, normalise(a) if normalise is not None else a)
        return out

    return of
