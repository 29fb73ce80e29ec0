"""The change-type gate (lab/gate.py, the rejected v4.1 candidate) on a synthetic Sentinel-2-like pair with known changes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lab.gate import GateDetector, gate_reasons, gated_detector
from models.cva import CVADetector
from models.registry import get_detector
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
SIZE, BLOCK = 120, 12


def _pair(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Unchanged fields (each pixel a random crop/soil mixture) and 12 x 12 blocks of: crop growth,
    crop -> bare, crop -> roof, turbid water, bare soil darkened by 40 % (wet), bare -> roof.
    Returns before, after and the blocks' masks."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(0, 1, (SIZE, SIZE)).astype(np.float32)
    before = {r: f * CROP_EARLY[i] + (1 - f) * BARE[i] for i, r in enumerate(ROLES)}
    after = {r: v.copy() for r, v in before.items()}
    blocks = {"growth": ((10, 10), CROP_EARLY, CROP_LATE), "to_bare": ((10, 50), CROP_EARLY, BARE),
              "to_roof": ((10, 90), CROP_EARLY, ROOF), "wet": ((60, 10), BARE, tuple(0.6 * x for x in BARE)),
              "bare_roof": ((60, 50), BARE, ROOF), "water": ((60, 90), WATER, WATER_HIGH)}
    masks = {}
    for name, ((y, x), spec_b, spec_a) in blocks.items():
        m = np.zeros((SIZE, SIZE), bool)
        m[y:y + BLOCK, x:x + BLOCK] = True
        masks[name] = m
        for i, r in enumerate(ROLES):
            before[r][m], after[r][m] = spec_b[i], spec_a[i]
    for stack in (before, after):
        for r in ROLES:
            stack[r] = (stack[r] + rng.normal(0, 0.004, (SIZE, SIZE))).astype(np.float32)
    return before, after, masks


def _reasons(name: str) -> dict[str, float]:
    """Share of block ``name``'s pixels each gate reason marks."""
    before, after, masks = _pair()
    det = GateDetector(CVADetector())
    scene = det.fit_scene(before, after, np.ones((SIZE, SIZE), bool))
    return {k: float(v[masks[name]].mean()) for k, v in gate_reasons(before, after, scene["gate"]).items()}


@pytest.mark.parametrize(("block", "reason"), [("growth", "vegetation"), ("water", "water"), ("wet", "brightness")])
def test_each_benign_change_is_dropped_by_its_own_reason(block: str, reason: str) -> None:
    shares = _reasons(block)
    assert shares[reason] > 0.95, shares
    assert shares["vegetation" if reason != "vegetation" else "water"] < 0.05, shares
    if block != "water":  # turbid water is also just brighter water
        assert all(v < 0.05 for k, v in shares.items() if k != reason), shares


@pytest.mark.parametrize("block", ["to_bare", "to_roof", "bare_roof"])
def test_change_towards_bare_or_built_ground_meets_no_reason(block: str) -> None:
    assert all(v < 0.05 for v in _reasons(block).values())


def _flagged(name: str) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    before, after, masks = _pair()
    res = run_pair(gated_detector(name) if "+gate" in name else get_detector(name), before, after, "synthetic", post=PostProcess.raw())
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
    gated = run_pair(gated_detector("cva+gate"), b, a, "rgb")
    plain = run_pair(get_detector("cva"), b, a, "rgb")
    assert gated.scene["gate"] == {"applied": False}
    np.testing.assert_array_equal(gated.mask, plain.mask)


def test_window_and_whole_give_the_same_scores() -> None:
    before, after, _ = _pair()
    det = gated_detector("irmad+gate:ki")
    valid = np.ones((SIZE, SIZE), bool)
    scene = det.fit_scene(before, after, valid)
    whole = det.detect(before, after, valid, scene).score
    win = (slice(30, 90), slice(10, 70))
    part = det.detect({r: v[win] for r, v in before.items()}, {r: v[win] for r, v in after.items()},
                      valid[win], scene).score
    np.testing.assert_allclose(part, whole[win], atol=1e-6)


def test_gated_names() -> None:
    assert gated_detector("CVA+gate:KI").name == "cva+gate:ki"
    assert gated_detector("irmad+gate").name == "irmad+gate"
    for bad in ("auto+gate", "foo+gate", "cva+gate:median", "cva+gat", "cva:ki+gate"):
        with pytest.raises((ValueError, ConfigError)):
            gated_detector(bad)


def test_a_gate_with_fewer_reasons_keeps_what_the_others_would_drop() -> None:
    before, after, masks = _pair()
    det = GateDetector(CVADetector(), reasons=("vegetation", "water"))
    res = run_pair(det, before, after, "synthetic", post=PostProcess.raw())
    assert res.mask[masks["wet"]].mean() > 0.9      # brightness-only change no longer dropped
    assert res.mask[masks["growth"]].mean() < 0.05 and res.mask[masks["water"]].mean() < 0.05
    assert res.scene["gate"]["reasons"] == ["vegetation", "water"]
    with pytest.raises(ValueError):
        GateDetector(CVADetector(), reasons=("clouds",))
