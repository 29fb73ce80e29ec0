"""CVADetector on synthetic band stacks with planted changes (exact, in memory)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.base import ChangeMap, Detector
from models.change_class import classify
from models.cva import M0, M0_RGB, CVADetector
from pipeline.classes import ChangeClass
from pipeline.patches import clean_mask

ROLES6 = ("blue", "green", "red", "nir", "swir1", "swir2")
FARM = dict(blue=0.04, green=0.08, red=0.05, nir=0.35, swir1=0.18, swir2=0.09)
FARM2 = dict(blue=0.05, green=0.09, red=0.07, nir=0.28, swir1=0.20, swir2=0.11)
BUILDING = dict(blue=0.25, green=0.26, red=0.27, nir=0.30, swir1=0.32, swir2=0.28)
SOIL = dict(blue=0.08, green=0.12, red=0.17, nir=0.22, swir1=0.32, swir2=0.28)
WATER = dict(blue=0.06, green=0.07, red=0.05, nir=0.02, swir1=0.01, swir2=0.005)
PLANTS = {"building": ((20, 50), (20, 50), BUILDING), "soil": ((100, 125), (30, 55), SOIL),
          "water": ((60, 80), (120, 140), WATER)}


def scene(roles=ROLES6, shape=(160, 160), seed=0, gain=1.15, offset=0.01, plants=PLANTS):
    """Two fields of crops; after = gain * before + offset (other sun/atmosphere) + noise."""
    rng = np.random.default_rng(seed)
    before, after = {}, {}
    for r in roles:
        base = np.full(shape, FARM[r], np.float32)
        base[:, shape[1] // 2:] = FARM2[r]
        post = base.copy()
        for rows, cols, spec in plants.values():
            post[slice(*rows), slice(*cols)] = spec[r]
        before[r] = (base + rng.normal(0, 0.004, shape)).astype(np.float32)
        after[r] = ((post + rng.normal(0, 0.004, shape)) / gain + offset).astype(np.float32)
    return before, after, np.ones(shape, bool)


def test_protocol_and_attributes():
    det = CVADetector()
    assert isinstance(det, Detector)
    assert det.name == "cva" and det.version
    assert det.required_roles == frozenset({"red", "green", "blue"})
    assert 0 < det.threshold < 1 and det.halo >= 0


def test_fit_scene_recovers_radiometric_gain_and_is_json():
    b, a, v = scene()
    sc = CVADetector().fit_scene(b, a, v)
    json.dumps(sc)
    assert sc["roles"] == list(ROLES6)
    for r in ROLES6:
        assert sc["gain"][r] == pytest.approx(1.15, rel=0.03)
        assert sc["offset"][r] == pytest.approx(-0.0115, abs=0.003)
        assert sc["sigma"][r] == pytest.approx(0.004 * np.sqrt(2), rel=0.15)


@pytest.mark.parametrize("roles", [ROLES6, ("blue", "green", "red", "nir"), ("blue", "green", "red")])
def test_planted_changes_score_and_class(roles):
    b, a, v = scene(roles=roles)
    det = CVADetector()
    sc = det.fit_scene(b, a, v)
    out = det.detect(b, a, v, sc)
    assert isinstance(out, ChangeMap)
    assert out.score.dtype == np.float32 and out.change_class.dtype == np.uint8
    assert np.all((out.score >= 0) & (out.score <= 1))
    changed = out.score > det.threshold
    planted = np.zeros(v.shape, bool)
    for rows, cols, _ in PLANTS.values():
        planted[slice(*rows), slice(*cols)] = True
    if "nir" in roles:
        assert changed[~planted].mean() < 1e-3  # noise: isolated pixels at most
    else:  # m0 = 1.25 on RGB flags ~20 % of white-noise pixels; the product's opening removes them
        assert changed[~planted].mean() < 0.25
        assert clean_mask(changed, 1)[~planted].mean() < 1e-3
    expected = {"building": ChangeClass.CONSTRUCTION, "soil": ChangeClass.BARE_SOIL,
                "water": ChangeClass.WATER}
    for name, (rows, cols, _) in PLANTS.items():
        if name == "water" and "nir" not in roles:
            continue  # dark crops -> water barely differs in visible bands alone
        assert changed[slice(*rows), slice(*cols)].all(), name
        got = out.change_class[slice(*rows), slice(*cols)]
        assert (got == expected[name]).mean() > 0.99, (name, np.bincount(got.ravel()))


def test_unchanged_pair_scores_low():
    b, a, v = scene(plants={})
    det = CVADetector()
    out = det.detect(b, a, v, det.fit_scene(b, a, v))
    assert (out.score > det.threshold).sum() <= 3
    assert np.median(out.score) < 0.2


def test_invalid_pixels_score_zero_class_none():
    b, a, v = scene()
    v[25:30, 25:30] = False
    b["red"][0, 0] = np.nan
    det = CVADetector()
    out = det.detect(b, a, v, det.fit_scene(b, a, v))
    assert np.all(out.score[25:30, 25:30] == 0) and np.all(out.change_class[25:30, 25:30] == 0)
    assert out.score[0, 0] == 0 and out.change_class[0, 0] == 0


def test_window_invariant():
    b, a, v = scene()
    det = CVADetector()
    sc = det.fit_scene(b, a, v)
    full = det.detect(b, a, v, sc)
    h = det.halo
    for r0, c0, hh, ww in [(0, 0, 37, 53), (30, 41, 64, 64), (100, 90, 60, 70)]:
        rs, cs = slice(max(r0 - h, 0), r0 + hh + h), slice(max(c0 - h, 0), c0 + ww + h)
        part = det.detect({k: x[rs, cs] for k, x in b.items()}, {k: x[rs, cs] for k, x in a.items()},
                          v[rs, cs], sc)
        ir, ic = slice(r0 - rs.start, r0 - rs.start + hh), slice(c0 - cs.start, c0 - cs.start + ww)
        np.testing.assert_array_equal(part.score[ir, ic], full.score[r0:r0 + hh, c0:c0 + ww])
        np.testing.assert_array_equal(part.change_class[ir, ic],
                                      full.change_class[r0:r0 + hh, c0:c0 + ww])


def test_fit_scene_without_valid_pixels_fails():
    b, a, v = scene()
    with pytest.raises(ValueError):
        CVADetector().fit_scene(b, a, np.zeros_like(v))


def test_classify_vegetation_loss_and_other():
    one = lambda spec: {r: np.array([[spec[r]]], np.float32) for r in ROLES6}  # noqa: E731
    sparse = dict(blue=0.05, green=0.08, red=0.07, nir=0.20, swir1=0.2, swir2=0.12)
    assert classify(one(FARM), one(sparse))[0, 0] == ChangeClass.VEGETATION_LOSS
    darker_soil = {r: SOIL[r] * 0.7 for r in ROLES6}
    assert classify(one(SOIL), one(darker_soil))[0, 0] == ChangeClass.OTHER


def test_score_scale_depends_on_band_set():
    """RGB-only pairs get the leave-one-pair-out scale, multispectral the OSCD one."""
    det = CVADetector()
    for roles, m0 in ((ROLES6, M0), (("blue", "green", "red", "nir"), M0), (("blue", "green", "red"), M0_RGB)):
        b, a, v = scene(roles=roles)
        sc = det.fit_scene(b, a, v)
        assert sc["m0"] == m0
        out = det.detect(b, a, v, sc)
        # score 0.5 exactly where the noise-normalised magnitude equals m0
        assert np.array_equal(out.score > 0.5, det._magnitude(b, a, sc) > m0)
    assert M0_RGB < M0


def test_rgb_smoothing_is_window_invariant_and_only_for_rgb() -> None:
    """The cva 1.2 candidate (box-averaged RGB differences; rejected, default stays 1) keeps the
    detector contract: identical values in any window carrying ``halo`` pixels of context."""
    rng = np.random.default_rng(5)
    shape = (60, 70)
    before = {r: rng.uniform(0.05, 0.3, shape).astype(np.float32) for r in ("red", "green", "blue")}
    after = {r: (v + rng.normal(0, 0.01, shape)).astype(np.float32) for r, v in before.items()}
    for v in after.values():
        v[20:30, 25:40] += 0.2
    det = CVADetector(smooth_rgb=3)
    assert det.halo == 1 and CVADetector().halo == 0
    valid = np.ones(shape, bool)
    scene = det.fit_scene(before, after, valid)
    assert scene["smooth_px"] == 3
    whole = det.detect(before, after, valid, scene).score
    h = det.halo
    win = (slice(15 - h, 40 + h), slice(20 - h, 50 + h))
    part = det.detect({r: v[win] for r, v in before.items()}, {r: v[win] for r, v in after.items()}, valid[win], scene)
    np.testing.assert_allclose(part.score[h:-h, h:-h], whole[15:40, 20:50], rtol=1e-5, atol=1e-6)
    six = {**before, "nir": before["red"], "swir1": before["green"], "swir2": before["blue"]}
    assert det.fit_scene(six, {**after, "nir": after["red"], "swir1": after["green"], "swir2": after["blue"]},
                         valid)["smooth_px"] == 1
    with pytest.raises(ValueError, match="odd width"):
        CVADetector(smooth_rgb=2)


@pytest.mark.parametrize("name", ["cva", "irmad", "gbm", "ensemble", "cnn"])
@pytest.mark.parametrize("roles", [ROLES6, ("blue", "green", "red")])
def test_the_class_of_flagged_pixels_alone_is_the_class_of_the_whole_window(name, roles):
    """The driver asks only for the classes of the pixels it flags: each must be the class the
    rules give that pixel when the whole window is classified, and 0 elsewhere."""
    from models.registry import get_detector

    b, a, v = scene(roles=roles)
    v[:7] = False  # an invalid strip, and NaN in one band on the other date
    a["red"][30:33, :] = np.nan
    if name == "gbm":  # its features want NaN marked not valid, as the pipeline's readers do
        v[30:33, :] = False
    det = get_detector(name)
    sc = det.fit_scene(b, a, v)
    out = det.detect(b, a, v, sc)
    full = det.detect(b, a, v, sc).change_class  # every pixel, read at once
    ok = v & np.isfinite(a["red"])
    assert np.all(full[~ok] == ChangeClass.NONE) and np.any(full != ChangeClass.NONE)
    for mask in (out.score > det.threshold, np.random.default_rng(1).random(v.shape) < 0.3,
                 np.zeros(v.shape, bool)):
        got = out.class_where(mask)
        assert got.dtype == np.uint8 and got.shape == v.shape
        np.testing.assert_array_equal(got, np.where(mask, full, 0))
    # and the whole-window class is the rules' own, with no class where no score
    if name == "cva":
        with np.errstate(invalid="ignore", divide="ignore"):
            rules = classify({r: np.where(ok, b[r], 0) for r in roles},
                             det.normalise_after({r: np.where(ok, a[r], 0) for r in roles}, sc))
        rules[(out.score <= 0) | ~ok] = ChangeClass.NONE
        np.testing.assert_array_equal(full, rules)


@pytest.mark.parametrize("name", ["cva", "irmad"])
def test_an_all_valid_window_is_scored_as_if_zero_filled(name):
    """A window valid everywhere keeps its bands uncopied; its score and classes are those of
    the same window with one pixel masked, everywhere else (the zero fill touches nothing)."""
    from models.cva import valid_zero_filled
    from models.registry import get_detector

    b, a, v = scene()
    ok, bb, aa = valid_zero_filled(b, a, v, list(ROLES6))
    assert ok.all() and all(bb[r] is b[r] and aa[r] is a[r] for r in ROLES6)
    v2 = v.copy()
    v2[0, 0] = False
    ok2, bb2, _ = valid_zero_filled(b, a, v2, list(ROLES6))
    assert not ok2[0, 0] and bb2["red"][0, 0] == 0 and b["red"][0, 0] != 0  # a copy, zero-filled
    det = get_detector(name)
    params = det.fit_scene(b, a, v)
    whole, masked = det.detect(b, a, v, params), det.detect(b, a, v2, params)
    same = np.ones(v.shape, bool)
    same[0, 0] = False
    assert np.array_equal(whole.score[same], masked.score[same])
    assert np.array_equal(whole.change_class[same], masked.change_class[same])
    assert masked.score[0, 0] == 0
