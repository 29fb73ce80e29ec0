"""Choosing the ensemble's constant on cleaned masks (lab/ensemblecv.py)."""
from __future__ import annotations

import numpy as np
import pytest

from lab.ensemblecv import GRIDS, Scored, choose, confusion, sweep
from models.ensemble import combine
from pipeline.evaluate.runner import PostProcess


def test_choose_picks_best_pooled_constant_and_sweep_scores_cleaned_masks() -> None:
    rng = np.random.default_rng(1)
    label = np.zeros((60, 60), bool)
    label[10:30, 10:30] = True
    g = np.where(label, 0.9, 0.7).astype(np.float32)          # gbm flags everything
    s = np.where(label, 0.9, rng.random(label.shape) * 0.2).astype(np.float32)  # cva only the roof
    im = Scored(g, s, np.ones_like(label), label, None)
    table = sweep(im, "gate", PostProcess())
    assert len(table) == len(GRIDS["gate"])
    assert table[0].f1 < 0.5  # f = 0: gbm alone, everything flagged
    i, f1 = choose([table])
    assert f1 == pytest.approx(1.0) and GRIDS["gate"][i] > 0
    assert confusion(combine(g, s, "gate", GRIDS["gate"][i]), im, PostProcess()).fp == 0


def test_a_scene_cut_is_found_on_the_held_out_image_alone() -> None:
    """A bimodal score whose modes sit well below the fixed cut: the fixed 0.5 finds nothing,
    the per-scene cut finds the square, and the cut it used is returned."""
    from lab.ensemblecv import scene_cut_confusion

    rng = np.random.default_rng(2)
    label = np.zeros((80, 80), bool)
    label[20:50, 20:50] = True
    score = np.where(label, 0.35, 0.05) + rng.normal(0, 0.01, label.shape)
    im = Scored(score.astype(np.float32), score.astype(np.float32), np.ones_like(label), label, None)
    assert confusion(score, im, PostProcess()).tp == 0
    for method in ("otsu", "ki", "gmm"):
        conf, cut = scene_cut_confusion(score, im, method, PostProcess())
        assert 0.05 < cut < 0.35
        assert conf.f1 > 0.99
    invalid = im.valid.copy()
    invalid[:, :40] = False  # only the valid pixels count
    half = Scored(im.g, im.s, invalid, label, None)
    conf, _ = scene_cut_confusion(score, half, "otsu", PostProcess())
    assert conf.tp == 30 * 10 and conf.fp == 0
