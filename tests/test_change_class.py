"""The shared change-class rules (models/change_class.py), on single-pixel spectra."""
from __future__ import annotations

import numpy as np
import pytest

from models.change_class import classify_changed
from pipeline.classes import ChangeClass


def _px(**v: float) -> dict[str, np.ndarray]:
    return {k: np.array([[val]], np.float32) for k, val in v.items()}


FIELD = dict(blue=0.04, green=0.08, red=0.05, nir=0.40, swir1=0.20, swir2=0.10)
BUILT = dict(blue=0.15, green=0.16, red=0.18, nir=0.22, swir1=0.30, swir2=0.26)
SOIL = dict(blue=0.10, green=0.13, red=0.17, nir=0.24, swir1=0.22, swir2=0.18)
WATER = dict(blue=0.06, green=0.07, red=0.05, nir=0.03, swir1=0.01, swir2=0.01)


@pytest.mark.parametrize("before,after,expected", [
    (FIELD, BUILT, ChangeClass.CONSTRUCTION),
    (FIELD, SOIL, ChangeClass.BARE_SOIL),
    (FIELD, WATER, ChangeClass.WATER),
    (SOIL, FIELD, ChangeClass.OTHER),  # green-up / crop growth is never construction
])
def test_class_rules(before: dict, after: dict, expected: ChangeClass) -> None:
    out = classify_changed(_px(**before), _px(**after), np.ones((1, 1), bool))
    assert out[0, 0] == expected
    assert classify_changed(_px(**before), _px(**after), np.zeros((1, 1), bool))[0, 0] == ChangeClass.NONE


def test_rgb_rules() -> None:
    rgb = lambda d: {k: d[k] for k in ("red", "green", "blue")}  # noqa: E731
    out = classify_changed(_px(**rgb(FIELD)), _px(**rgb(SOIL)), np.ones((1, 1), bool))
    assert out[0, 0] == ChangeClass.BARE_SOIL


def test_four_band_roof_is_construction_and_field_to_soil_is_bare_soil() -> None:
    """Blue, green, red, nir only (drone, Gaofen-1/2): NDVI decides vegetation, the grey rule roofs."""
    four = lambda d: {k: d[k] for k in ("blue", "green", "red", "nir")}  # noqa: E731
    assert classify_changed(_px(**four(FIELD)), _px(**four(BUILT)), np.ones((1, 1), bool))[0, 0] == ChangeClass.CONSTRUCTION
    assert classify_changed(_px(**four(FIELD)), _px(**four(SOIL)), np.ones((1, 1), bool))[0, 0] == ChangeClass.BARE_SOIL
