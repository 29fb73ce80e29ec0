"""IR-MAD baseline (models/irmad.py) on synthetic pairs with planted change."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.base import Detector
from models.irmad import IRMADDetector, fit_mad
from models.registry import get_detector
from pipeline.classes import ChangeClass
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.runner import PostProcess, run_pair

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")


def _pair(seed: int = 0, shape: tuple[int, int] = (120, 140)) -> tuple[dict, dict, np.ndarray]:
    """Correlated bands; the after date has another gain/offset per band and mixes two bands
    (a different sensor and atmosphere); a grey, bright roof appears on a vegetated field."""
    rng = np.random.default_rng(seed)
    common = rng.uniform(0.05, 0.3, shape)
    veg = rng.uniform(0.0, 1.0, shape)
    # each band also has its own surface variation, so every canonical pair is well correlated
    base = {r: 0.6 * common + w * veg + rng.uniform(0.0, 0.08, shape)
            for r, w in zip(ROLES, (0.0, 0.03, -0.02, 0.3, 0.05, 0.0))}
    before = {r: (v + rng.normal(0, 0.004, shape)).astype(np.float32) for r, v in base.items()}
    after = {r: (1.3 * v + 0.02 + rng.normal(0, 0.004, shape)).astype(np.float32) for r, v in base.items()}
    after["green"] = (after["green"] + 0.2 * after["blue"]).astype(np.float32)
    label = np.zeros(shape, bool)
    label[30:50, 40:70] = True
    for r, v in {"blue": 0.35, "green": 0.36, "red": 0.33, "nir": 0.36, "swir1": 0.45, "swir2": 0.40}.items():
        after[r][label] = v
    return before, after, label


def test_finds_planted_change_despite_affine_radiometry() -> None:
    before, after, label = _pair()
    det = IRMADDetector()
    assert isinstance(det, Detector) and isinstance(get_detector("irmad"), IRMADDetector)
    res = run_pair(det, before, after, "syn", post=PostProcess.raw())
    conf = Confusion.from_masks(res.mask, label)
    assert conf.recall > 0.95
    assert conf.fp / (~label).sum() < 0.03  # about ALPHA where nothing changed
    assert np.isin(res.change.change_class[res.mask & label],
                   [ChangeClass.CONSTRUCTION, ChangeClass.VEGETATION_LOSS, ChangeClass.OTHER]).all()
    json.dumps(res.scene)  # recorded per run


def test_reweighting_converges_and_downweights_change() -> None:
    before, after, label = _pair(1)
    x = np.stack([before[r].ravel() for r in ROLES], 1).astype(np.float64)
    y = np.stack([after[r].ravel() for r in ROLES], 1).astype(np.float64)
    fit = fit_mad(x, y)
    assert fit["iterations"] < 30
    p = fit["no_change_p"].reshape(label.shape)
    assert np.median(p[label]) < 1e-6 < 0.3 < np.median(p[~label])
    assert max(fit["rho"]) > 0.99  # the unchanged pixels are an affine map of each other


def test_window_invariant_and_rgb_only() -> None:
    before, after, _ = _pair(2)
    rgb_b = {r: before[r] for r in ("red", "green", "blue")}
    rgb_a = {r: after[r] for r in ("red", "green", "blue")}
    det = IRMADDetector()
    valid = np.ones(rgb_b["red"].shape, bool)
    scene = det.fit_scene(rgb_b, rgb_a, valid)
    assert scene["roles"] == ["blue", "green", "red"]
    whole = det.detect(rgb_b, rgb_a, valid, scene).score
    win = (slice(20, 60), slice(35, 90))
    part = det.detect({r: v[win] for r, v in rgb_b.items()}, {r: v[win] for r, v in rgb_a.items()}, valid[win], scene)
    np.testing.assert_allclose(part.score, whole[win], rtol=1e-5, atol=1e-6)


def test_too_few_pixels_is_refused() -> None:
    before, after, _ = _pair(3, shape=(4, 4))
    with pytest.raises(ValueError, match="too few valid pixels"):
        IRMADDetector().fit_scene(before, after, np.ones((4, 4), bool))


def test_through_the_windowed_driver(tmp_path) -> None:
    """detect_pair with IR-MAD: the planted building is one patch, whatever the window size."""
    from pipeline.detect import DetectParams, detect_pair
    from tests.test_detect import BUILDING, ArrayReader, make_grid, make_pair

    b, a = make_pair(plants=[((40, 70, 100, 130), BUILDING)])
    out = {}
    for block in (64, 256):
        det = detect_pair(ArrayReader(b), ArrayReader(a), make_grid(200, 200), IRMADDetector(),
                          tmp_path / str(block), DetectParams(block_size=block))
        out[block] = det
    p = out[64].patches
    assert len(p) == 1 and p.pixels.iloc[0] == 900 and p.change_class.iloc[0] == ChangeClass.CONSTRUCTION.key
    assert out[256].patches.geometry.geom_equals(p.geometry).all()


@pytest.mark.realdata
def test_nanjing_numbers_of_the_model_card(shared_data) -> None:
    """Never tuned on Nanjing: post 0.832 / 0.042 in models/README.md; guard a band around it."""
    from pipeline.evaluate.roi import evaluate_roi

    nj = shared_data / "landsat" / "Nanjing"
    res = evaluate_roi(nj / "LT51200382000124BJC00_Nanjing", nj / "LT51200382002193BJC00_Nanjing",
                       nj / "change.bmp", nj / "unchanged.bmp", IRMADDetector(), progress=lambda m: None)
    assert res["detection_rate"] == pytest.approx(0.832, abs=0.01)
    assert res["false_alarm_rate"] == pytest.approx(0.042, abs=0.005)


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 6, 7])
def test_closed_form_chi2_cdf_equals_scipys(dof: int) -> None:
    from scipy import stats

    from models.irmad import chi2_cdf

    rng = np.random.default_rng(dof)
    z = np.concatenate([rng.chisquare(dof, 50_000) * 3, [0.0, 1e-12, 1e-6, 50.0, 700.0, 1500.0]])
    np.testing.assert_allclose(chi2_cdf(z, dof), stats.chi2.cdf(z, dof), rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match="dof"):
        chi2_cdf(z, 0)


def test_band_by_band_statistic_equals_the_matrix_form() -> None:
    from models.irmad import chi2_statistic

    rng = np.random.default_rng(5)
    roles = ["red", "green", "blue", "nir"]
    b = {r: rng.uniform(0.02, 0.4, (40, 50)).astype(np.float32) for r in roles}
    a = {r: (v * 1.1 + rng.normal(0, 0.02, v.shape)).astype(np.float32) for r, v in b.items()}
    scene = {"roles": roles, "a": rng.normal(size=(4, 4)).tolist(), "b": rng.normal(size=(4, 4)).tolist(),
             "mean_before": rng.uniform(0, 0.2, 4).tolist(), "mean_after": rng.uniform(0, 0.2, 4).tolist(),
             "median": rng.normal(0, 0.01, 4).tolist(), "var": rng.uniform(0.5, 2, 4).tolist()}
    x = np.stack([b[r].astype(np.float64).ravel() for r in roles], axis=1)
    y = np.stack([a[r].astype(np.float64).ravel() for r in roles], axis=1)
    mad = (x - np.asarray(scene["mean_before"])) @ np.asarray(scene["a"]) \
        - (y - np.asarray(scene["mean_after"])) @ np.asarray(scene["b"]) - np.asarray(scene["median"])
    expected = ((mad ** 2) / np.asarray(scene["var"])).sum(axis=1).reshape(40, 50)
    np.testing.assert_allclose(chi2_statistic(b, a, scene), expected, rtol=1e-12)
