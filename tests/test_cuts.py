"""Per-scene cuts (models/cuts.py): each method on bimodal scores, the wrapper, the registry names."""
from __future__ import annotations

import json

import numpy as np
import pytest

from models.cuts import (
    METHODS,
    SceneCutDetector,
    from_z,
    kittler_illingworth,
    scene_cut,
    to_z,
)
from models.cva import CVADetector
from models.registry import check_detector_name, get_detector
from pipeline.errors import ConfigError
from pipeline.evaluate.runner import run_pair


def _bimodal(seed: int = 0, n_change: int = 2000) -> np.ndarray:
    """z-values: unchanged N(1, 0.25), changed N(4, 0.5) (as cva's m / m0 would be)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(1.0, 0.25, 20_000), rng.normal(4.0, 0.5, n_change)]).clip(0, None)


def test_z_is_cvas_magnitude_and_round_trips() -> None:
    m = np.array([0.0, 0.5, 1.0, 2.0])
    score = 1 - np.exp2(-(m ** 2))
    np.testing.assert_allclose(to_z(score), m, atol=1e-9)
    assert from_z(1.0) == pytest.approx(0.5)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_cuts_between_the_modes(method: str) -> None:
    z = _bimodal()
    zc = float(to_z(np.array([scene_cut(1 - np.exp2(-(z ** 2)), method)]))[0])
    assert 1.6 < zc < 3.2, (method, zc)


def test_kittler_illingworth_against_brute_force_on_equal_spreads() -> None:
    """Two Gaussians of equal spread and weight: the minimum-error cut is their midpoint."""
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.normal(2.0, 0.3, 50_000), rng.normal(5.0, 0.3, 50_000)])
    assert kittler_illingworth(z) == pytest.approx(3.5, abs=0.25)
    # unequal spreads move the cut toward the narrow class
    z2 = np.concatenate([rng.normal(2.0, 0.2, 50_000), rng.normal(5.0, 1.0, 50_000)])
    assert kittler_illingworth(z2) < 3.3


def test_degenerate_scores_fall_back_to_the_fixed_cut() -> None:
    assert scene_cut(np.full(100, 0.3), "otsu") == 0.5
    # saturated float32 scores (1.0 exactly: a strong change) stay finite
    sat = np.concatenate([np.full(500, 0.1), np.ones(100)]).astype(np.float32)
    assert all(0.1 < scene_cut(sat, m) < 1.0 for m in METHODS)
    with pytest.raises(ValueError):
        scene_cut(np.zeros(100), "median")


def _pair(shift: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(1)
    before = {r: (0.2 + 0.02 * rng.normal(size=(80, 80))).astype(np.float32) for r in ("red", "green", "blue")}
    after = {r: (v + 0.02 * rng.normal(size=v.shape)).astype(np.float32) for r, v in before.items()}
    label = np.zeros((80, 80), bool)
    label[20:40, 20:40] = True
    for v in after.values():
        v[label] += np.float32(shift)
    return before, after, label


def test_wrapper_records_its_cut_and_finds_faint_change_the_fixed_cut_misses() -> None:
    before, after, label = _pair(0.03)   # 1.5 noise sigmas per band: mostly below cva's RGB cut
    fixed = run_pair(CVADetector(), before, after, "syn")
    det = SceneCutDetector(CVADetector(), "otsu")
    res = run_pair(det, before, after, "syn")
    json.dumps(res.scene)
    assert res.scene["cut"]["method"] == "otsu" and 0 < res.scene["cut"]["score"] < 0.5
    assert res.mask[label].mean() > fixed.mask[label].mean() + 0.25
    assert res.mask[~label].mean() < 0.02
    assert (res.change.change_class[res.change.score > 0.5] > 0).all()
    assert det.name == "cva:otsu" and det.halo == 0 and det.thread_safe


def test_registry_names_with_a_cut() -> None:
    assert check_detector_name("CVA:KI") == "cva:ki"
    det = get_detector("cva:spread")
    assert isinstance(det, SceneCutDetector) and det.method == "spread"
    for bad in ("cva:median", "auto:otsu", "nope:otsu"):
        with pytest.raises(ConfigError):
            check_detector_name(bad)
