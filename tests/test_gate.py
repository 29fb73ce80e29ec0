"""The change-type gate (models/gate.py) on a synthetic Sentinel-2-like pair with known changes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.cva import CVADetector
from models.gate import GateDetector
from models.registry import check_detector_name, get_detector
from pipeline.classes import ChangeClass
from pipeline.errors import ConfigError
from pipeline.evaluate.runner import PostProcess, run_pair

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
# reflectance spectra (blue, green, red, nir, swir1, swir2)
CROP_EARLY = (0.05, 0.07, 0.06, 0.28, 0.20, 0.11)   # NDVI 0.65
CROP_LATE = (0.03, 0.08, 0.03, 0.45, 0.22, 0.10)    # NDVI 0.88: grown, still vegetation
BARE = (0.08, 0.11, 0.15, 0.22, 0.30, 0.25)         # soil: NDVI 0.19
ROOF = (0.20, 0.21, 0.22, 0.25, 0.27, 0.24)         # grey concrete / steel
WATER = (0.06, 0.07, 0.04, 0.02, 0.01, 0.01)
WATER_HIGH = (0.08, 0.10, 0.07, 0.04, 0.02, 0.01)   # turbid water
SIZE, BLOCK = 120, 20


def _pair(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Mostly unchanged crop and soil; blocks of: crop growth, crop -> bare, crop -> roof,
    turbid water, bare soil darkened by 40 % (wet), bare -> roof. Returns before, after, truth masks."""
    rng = np.random.default_rng(seed)
    field = np.zeros((SIZE, SIZE), np.uint8)  # 0 crop, 1 bare, 2 water
    field[:, SIZE // 2:] = 1
    field[100:, :SIZE // 2] = 2
    spectra_b = {0: CROP_EARLY, 1: BARE, 2: WATER}
    before = {r: np.zeros((SIZE, SIZE), np.float32) for r in ROLES}
    for k, spec in spectra_b.items():
        for i, r in enumerate(ROLES):
            before[r][field == k] = spec[i]
    after = {r: v.copy() for r, v in before.items()}
    blocks = {"growth": (0, 0), "to_bare": (0, 20), "to_roof": (40, 0),
              "wet": (0, 80), "bare_roof": (40, 80), "water": (100, 0)}
    masks = {}
    for name, (y, x) in blocks.items():
        m = np.zeros((SIZE, SIZE), bool)
        m[y:y + BLOCK, x:x + BLOCK] = True
        masks[name] = m
    for i, r in enumerate(ROLES):
        after[r][masks["growth"]] = CROP_LATE[i]
        after[r][masks["to_bare"]] = BARE[i]
        after[r][masks["to_roof"]] = ROOF[i]
        after[r][masks["wet"]] = 0.6 * BARE[i]
        after[r][masks["bare_roof"]] = ROOF[i]
        after[r][masks["water"]] = WATER_HIGH[i]
    for stack in (before, after):
        for r in ROLES:
            stack[r] = (stack[r] + rng.normal(0, 0.004, (SIZE, SIZE))).astype(np.float32)
    return before, after, masks


def _flagged(name: str) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    before, after, masks = _pair()
    res = run_pair(get_detector(name), before, after, "synthetic", post=PostProcess.raw())
    return {k: res.mask[m] for k, m in masks.items()}, dict(res.scene)


def test_cva_alone_flags_every_synthetic_change() -> None:
    flagged, _ = _flagged("cva")
    for name, hit in flagged.items():
        assert hit.mean() > 0.9, name


def test_gate_drops_vegetation_water_and_brightness_and_keeps_bare_and_built() -> None:
    flagged, scene = _flagged("cva+gate")
    assert flagged["growth"].mean() < 0.05          # vegetation to vegetation: phenology
    assert flagged["water"].mean() < 0.05           # water stays water
    assert flagged["wet"].mean() < 0.05             # the same soil, darker as a whole
    assert flagged["to_bare"].mean() > 0.9          # vegetation to bare soil
    assert flagged["to_roof"].mean() > 0.9          # vegetation to a roof
    assert flagged["bare_roof"].mean() > 0.9        # bare soil to a roof
    gate = scene["gate"]
    assert gate["applied"] is True
    assert set(gate["dropped"]) == {"vegetation", "water", "brightness"}
    assert gate["dropped"]["vegetation"] > 0.1 and gate["kept"] < 0.8
    json.dumps(scene)  # recorded in the run's scene parameters as JSON


def test_gated_pixels_score_zero_and_lose_their_class() -> None:
    before, after, masks = _pair()
    det = GateDetector(CVADetector())
    valid = np.ones((SIZE, SIZE), bool)
    scene = det.fit_scene(before, after, valid)
    out = det.detect(before, after, valid, scene)
    assert (out.score[masks["growth"]] == 0).all()
    assert (out.change_class[masks["growth"]] == ChangeClass.NONE).all()
    inner = CVADetector().detect(before, after, valid, CVADetector().fit_scene(before, after, valid))
    np.testing.assert_array_equal(out.score[masks["to_roof"]], inner.score[masks["to_roof"]])


def test_gate_with_a_cut_records_it_on_the_kept_pixels() -> None:
    flagged, scene = _flagged("cva+gate:ki")
    assert scene["cut"]["method"] == "ki" and scene["cut"]["on"] == "gated"
    assert flagged["to_roof"].mean() > 0.9 and flagged["growth"].mean() < 0.05


def test_rgb_pair_passes_ungated() -> None:
    before, after, _ = _pair()
    rgb = ("blue", "green", "red")
    b, a = {r: before[r] for r in rgb}, {r: after[r] for r in rgb}
    gated = run_pair(get_detector("cva+gate"), b, a, "rgb")
    plain = run_pair(get_detector("cva"), b, a, "rgb")
    assert gated.scene["gate"] == {"applied": False}
    np.testing.assert_array_equal(gated.mask, plain.mask)


def test_window_and_whole_give_the_same_scores() -> None:
    before, after, _ = _pair()
    det = get_detector("irmad+gate:ki")
    valid = np.ones((SIZE, SIZE), bool)
    scene = det.fit_scene(before, after, valid)
    whole = det.detect(before, after, valid, scene).score
    win = (slice(30, 90), slice(10, 70))
    part = det.detect({r: v[win] for r, v in before.items()}, {r: v[win] for r, v in after.items()},
                      valid[win], scene).score
    np.testing.assert_allclose(part, whole[win], atol=1e-6)


def test_registry_names() -> None:
    assert check_detector_name("CVA+gate:KI") == "cva+gate:ki"
    assert get_detector("irmad+gate:ki").name == "irmad+gate:ki"
    for bad in ("auto+gate", "foo+gate", "cva+gate:median", "cva+gat"):
        with pytest.raises(ConfigError):
            check_detector_name(bad)
