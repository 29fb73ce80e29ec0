"""The evaluation scores what the product outputs: opening + minimum mapping unit, for every detector."""
from __future__ import annotations

import numpy as np

from pipeline.detect import DetectParams
from pipeline.evaluate.baselines import NaiveCVADetector
from pipeline.evaluate.runner import PostProcess, run_pair


def _pair() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(3)
    before = {r: (0.2 + 0.01 * rng.standard_normal((64, 64))).astype(np.float32) for r in ("red", "green", "blue")}
    after = {r: v.copy() for r, v in before.items()}
    truth = np.zeros((64, 64), bool)
    truth[10:20, 30:42] = True            # a building: survives the 3x3 opening and the MMU
    for r in after:
        after[r][truth] += 0.3
        after[r][50, 5] += 0.3            # a one-pixel speck: removed by the opening
        after[r][40, 10:40] += 0.3        # a 1-px wide line (misregistered edge): removed
    return before, after, truth


def test_default_post_process_removes_specks_and_lines_keeps_objects() -> None:
    before, after, truth = _pair()
    det = NaiveCVADetector()
    raw = run_pair(det, before, after, "syn", post=PostProcess.raw()).mask
    cooked = run_pair(det, before, after, "syn").mask
    assert raw[50, 5] and raw[40, 20] and raw[truth].all()
    assert not cooked[50, 5] and not cooked[40].any()
    assert np.array_equal(cooked, truth)


def test_post_process_matches_the_products_defaults() -> None:
    post, params = PostProcess(), DetectParams()
    assert post.opening_radius_px == params.opening_radius_px
    assert post.mmu_pixels(100.0) == params.mmu_pixels(100.0) == 4
    assert post.mmu_pixels(1.0) == params.mmu_pixels(1.0) == 400
    assert post.mmu_pixels(None) == params.min_pixels
    blob = np.zeros((20, 20), bool)
    blob[2:4, 2:4] = True                 # 2x2: the 3x3 opening drops it
    assert not post.apply(blob, 100.0).any()
    assert PostProcess.raw().apply(blob).sum() == 4
    assert post.describe(100.0)["mmu_pixels"] == 4
