"""The cva+gbm ensemble: combination rules, the Detector protocol, constants chosen on cleaned masks."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lab.gbm_train import build_table, fit_model
from models.base import Detector
from models.cva import CVADetector
from models.ensemble import EnsembleDetector, combine, cva_cut
from models.gbm import GBMDetector
from models.registry import available_detectors
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.runner import PostProcess, run_pair
from tests.test_gbm import assert_window_invariant, synthetic_pair


@pytest.fixture(scope="module")
def tiny_gbm() -> GBMDetector:
    table = build_table([synthetic_pair(s) for s in range(3)], "rgb", n_per_class=600)
    booster, cut, _ = fit_model(table, range(3), "rgb")
    return GBMDetector({"rgb": (booster, cut)}, version="test", num_threads=1)


def test_gate_is_and_of_member_cuts() -> None:
    rng = np.random.default_rng(0)
    g, s = rng.random(1000).astype(np.float32), rng.random(1000).astype(np.float32)
    for f in (0.0, 0.6, 1.0):
        changed = combine(g, s, "gate", f) > 0.5
        expected = (g > 0.5) & (s > cva_cut(f) + 1e-6)
        assert (changed == expected).mean() > 0.995  # ties at the cut only
    assert cva_cut(1.0) == pytest.approx(0.5)  # f = 1 is cva's own cut
    # f = 0 leaves gbm alone
    assert ((combine(g, s, "gate", 0.0) > 0.5) == (g > 0.5)).all()


def test_geo_cut_and_monotone() -> None:
    g = np.full(5, 0.64, np.float32)
    s = np.array([0.0, 0.25, 0.5625, 0.7, 1.0], np.float32)  # sqrt(g*s): 0, .4, .6, .67, .8
    out = combine(g, s, "geo", 0.6)
    assert np.all(np.diff(out) >= 0)
    assert out[2] == pytest.approx(0.5, abs=1e-5) and out[1] < 0.5 < out[3]
    with pytest.raises(ValueError):
        combine(g, s, "mean", 0.5)


def test_detector_protocol_registry_and_planted_change(tiny_gbm: GBMDetector) -> None:
    det = EnsembleDetector(gbm=tiny_gbm, mode="gate", constants={"rgb": 0.6, "full": 0.6})
    assert isinstance(det, Detector) and det.halo == tiny_gbm.halo and det.thread_safe is False
    assert "ensemble" in available_detectors()
    test = synthetic_pair(99)
    res = run_pair(det, test.before, test.after, "syn")
    json.dumps(res.scene)
    assert Confusion.from_masks(res.mask, test.label).f1 > 0.8
    # the gate never flags a pixel gbm alone leaves unchanged
    alone = run_pair(tiny_gbm, test.before, test.after, "syn", post=PostProcess.raw())
    gated = run_pair(det, test.before, test.after, "syn", post=PostProcess.raw())
    assert not (gated.mask & ~alone.mask).any()
    assert (res.change.change_class[res.mask] > 0).all() and (res.change.change_class[~res.mask] == 0).all()


def test_gate_nests_masks_and_zero_is_gbm(tiny_gbm: GBMDetector) -> None:
    """A higher gate keeps a subset of a lower gate's pixels; at 0 the ensemble is gbm."""
    test = synthetic_pair(5)
    raw = PostProcess.raw()
    masks = [run_pair(EnsembleDetector(gbm=tiny_gbm, mode="gate", constants={"rgb": f}),
                      test.before, test.after, "syn", post=raw).mask for f in (0.0, 0.6, 1.2)]
    assert not (masks[1] & ~masks[0]).any() and not (masks[2] & ~masks[1]).any()
    np.testing.assert_array_equal(masks[0], run_pair(tiny_gbm, test.before, test.after, "syn", post=raw).mask)


@pytest.mark.parametrize("mode", ["gate", "geo"])
def test_window_invariant_given_halo(tiny_gbm: GBMDetector, mode: str) -> None:
    assert_window_invariant(EnsembleDetector(gbm=tiny_gbm, mode=mode, constants={"rgb": 0.5}))


def test_constants_follow_the_gbm_version() -> None:
    """Each gbm version has the constants chosen on its own training folds (v4.5: v5's and v6's rgb gate
    is open, gbm alone); a fold model without its own takes the shipped version's."""
    from models.ensemble import CONSTANTS, CONSTANTS_BY_GBM

    for version in ("v3", "v5", "v6"):
        det = EnsembleDetector(gbm=GBMDetector({"rgb": (None, 0.5)}, version=version))
        assert det.constants == CONSTANTS_BY_GBM[version]["gate"]
    assert CONSTANTS_BY_GBM["v3"]["gate"]["rgb"] == 0.6 and CONSTANTS_BY_GBM["v5"]["gate"]["rgb"] == 0.0
    assert CONSTANTS_BY_GBM["v6"]["gate"]["rgb"] == 0.0
    assert EnsembleDetector(gbm=GBMDetector({"rgb": (None, 0.5)}, version="lopo")).constants == CONSTANTS["gate"]
    assert EnsembleDetector().constants == CONSTANTS["gate"] == CONSTANTS_BY_GBM["v6"]["gate"]


def test_default_cva_member_is_cva() -> None:
    det = EnsembleDetector(gbm=GBMDetector({"rgb": (None, 0.5)}, version="x"))
    assert isinstance(det.cva, CVADetector) and det.mode == "gate"


def test_windows_run_on_threads_only_with_compiled_trees(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiled trees are re-entrant, LightGBM's own predict is not guaranteed to be."""
    pytest.importorskip("lleaves")
    from pipeline import settings

    assert EnsembleDetector().thread_safe  # the shipped models, compiled
    monkeypatch.setenv(settings.GBM_BACKEND_ENV, "lightgbm")
    assert not EnsembleDetector().thread_safe
