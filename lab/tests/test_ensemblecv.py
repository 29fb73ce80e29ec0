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
