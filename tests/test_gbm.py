from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lab.gbm_train import TrainImage, build_table, fit_model
from models.base import Detector
from models.features import feature_names
from models.gbm import ARTIFACTS, DEFAULT_VERSION, GBMDetector, rescale
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.runner import run_pair

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def synthetic_pair(seed: int, shape: tuple[int, int] = (96, 96)) -> TrainImage:
    """Textured field; a few bright 'roofs' appear; the after date is darker (season)."""
    rng = np.random.default_rng(seed)
    from scipy import ndimage

    base = {r: (0.1 + 0.3 * ndimage.gaussian_filter(rng.normal(size=shape), 2)).astype(np.float32)
            for r in ("red", "green", "blue")}
    after = {r: (0.8 * v + 0.01).astype(np.float32) for r, v in base.items()}
    label = np.zeros(shape, bool)
    for _ in range(4):
        y, x = rng.integers(5, shape[0] - 15, 2)
        label[y:y + 8, x:x + 8] = True
    for v in after.values():
        v[label] = 0.35
    return TrainImage(f"syn/{seed}", base, after, label)


@pytest.fixture(scope="module")
def tiny_detector() -> GBMDetector:
    images = [synthetic_pair(s) for s in range(3)]
    table = build_table(images, "rgb", n_per_class=600)
    booster, cut, info = fit_model(table, range(3), "rgb")
    assert 0.05 <= cut <= 0.95 and info["train_groups"] == ["syn/0", "syn/1", "syn/2"]
    return GBMDetector({"rgb": (booster, cut)}, version="test", num_threads=1)


def test_rescale_is_monotone_and_centres_the_cut() -> None:
    p = np.linspace(0, 1, 101)
    s = rescale(p, 0.3)
    assert np.all(np.diff(s) >= 0) and s[0] == 0 and s[-1] == 1
    assert rescale(np.array([0.3]), 0.3)[0] == pytest.approx(0.5)


def test_detects_planted_change_on_unseen_pair(tiny_detector: GBMDetector) -> None:
    assert isinstance(tiny_detector, Detector)
    test = synthetic_pair(99)
    res = run_pair(tiny_detector, test.before, test.after, "syn")
    assert Confusion.from_masks(res.mask, test.label).f1 > 0.8
    assert res.change.score.dtype == np.float32 and 0 <= res.change.score.min() <= res.change.score.max() <= 1
    assert (res.change.change_class[res.mask] > 0).all() and (res.change.change_class[~res.mask] == 0).all()


def assert_window_invariant(det: Any) -> None:
    """A window carrying ``det.halo`` context scores exactly as the whole image does there."""
    img = synthetic_pair(7, (110, 120))
    valid = np.ones(img.label.shape, bool)
    scene = det.fit_scene(img.before, img.after, valid)
    whole = det.detect(img.before, img.after, valid, scene)
    h = det.halo
    r0, c0, rows, cols = 40, 45, 20, 25
    win = (slice(r0 - h, r0 + rows + h), slice(c0 - h, c0 + cols + h))
    part = det.detect({k: v[win] for k, v in img.before.items()},
                      {k: v[win] for k, v in img.after.items()}, valid[win], scene)
    np.testing.assert_allclose(part.score[h:-h, h:-h], whole.score[r0:r0 + rows, c0:c0 + cols], atol=1e-5)


def test_window_invariant_given_halo(tiny_detector: GBMDetector) -> None:
    assert_window_invariant(tiny_detector)


def test_scene_params_are_json_and_find_the_shift(tiny_detector: GBMDetector) -> None:
    from scipy import ndimage

    img = synthetic_pair(11, (128, 128))
    after = {r: ndimage.shift(v, (0.0, -0.6), order=1, mode="nearest") for r, v in img.after.items()}
    scene = tiny_detector.fit_scene(img.before, after, np.ones(img.label.shape, bool))
    json.dumps(scene)
    assert scene["shift"][1] == pytest.approx(0.6, abs=0.2)
    assert scene["gain_offset"]["red"][0] == pytest.approx(1 / 0.8, rel=0.1)


def test_shipped_artifact_is_small_and_consistent() -> None:
    sidecar = ARTIFACTS / f"gbm-{DEFAULT_VERSION}.json"
    meta = json.loads(sidecar.read_text())
    total = sidecar.stat().st_size
    for band_set, info in meta["band_sets"].items():
        assert info["features"] == feature_names(band_set)
        assert 0 < info["threshold"] < 1
        total += (ARTIFACTS / info["model"]).stat().st_size
    assert total < 5_000_000
    det = GBMDetector()
    assert det.band_set({"red", "green", "blue"}) == "rgb"
    assert det.band_set({"red", "green", "blue", "nir", "swir1", "swir2"}) == "full"


@pytest.mark.realdata
def test_shipped_model_out_of_sample_against_naive() -> None:
    """Data never trained on: Nanjing within a regression band, better F1 than naive on DSIFN.

    v6 (models/README.md, v4.5) detects 13 % of Nanjing's changed pixels at 0.6 % false alarms
    (v5 11 % / 0.5 %): trained on nine 10 m cities, its cut is far more conservative on 30 m
    Landsat than v3's (55 % at 6.3 %), which is why ``auto`` never gives it Landsat pixels (``irmad:ki``). This
    guards that band against regressions, it does not claim a win.
    """
    nj = DATA / "landsat" / "Nanjing"
    if not nj.is_dir():
        pytest.skip("../shared/data absent")
    from pipeline.evaluate.baselines import NaiveCVADetector
    from pipeline.evaluate.pairs import evaluate_pairs
    from pipeline.evaluate.roi import evaluate_roi

    args = (nj / "LT51200382000124BJC00_Nanjing", nj / "LT51200382002193BJC00_Nanjing",
            nj / "change.bmp", nj / "unchanged.bmp")
    gbm = evaluate_roi(*args, GBMDetector(), progress=lambda m: None)
    assert gbm["false_alarm_rate"] < 0.02
    assert 0.05 < gbm["detection_rate"] < 0.3
    dsifn = DATA / "samples" / "dsifn"
    f1 = {name: evaluate_pairs(dsifn, det, progress=lambda m: None)["pooled"]["f1"]
          for name, det in (("gbm", GBMDetector()), ("naive", NaiveCVADetector()))}
    assert f1["gbm"] > f1["naive"]


class _Identity:
    """Stands in for a booster: the probability is the first feature."""

    def predict(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        return x[:, 0]


def test_probability_smoothing_damps_specks_and_widens_halo() -> None:
    from models.gbm import probability_map

    feats = np.zeros((1, 20, 20), np.float32)
    feats[0, 3, 3] = 1.0           # a lone confident pixel
    feats[0, 10:15, 10:15] = 1.0   # a coherent object
    valid = np.ones((20, 20), bool)
    p = probability_map(_Identity(), feats, valid, smooth_px=3)
    assert p[3, 3] == pytest.approx(1 / 9, abs=1e-6) and p[12, 12] == pytest.approx(1.0)
    assert probability_map(_Identity(), feats, valid, smooth_px=1)[3, 3] == 1.0
    assert GBMDetector({}, smooth_px=3).halo == GBMDetector({}, smooth_px=1).halo + 1


def test_threshold_is_chosen_on_cleaned_masks() -> None:
    """Specks above every cut are removed by the clean-up, so they cannot pull the cut up."""
    from lab.gbm_train import Prepared, best_threshold

    label = np.zeros((40, 40), bool)
    label[5:15, 5:15] = True
    prob = np.where(label, 0.6, 0.1).astype(np.float32)
    prob[30, ::4] = 0.99  # isolated specks: false alarms before the clean-up only
    im = Prepared({}, {}, {}, np.ones_like(label), label)
    cut, conf = best_threshold([prob], [im])
    assert 0.1 <= cut < 0.6 and conf.f1 == pytest.approx(1.0)
