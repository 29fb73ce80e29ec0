"""Leave-one-out choice of cva's magnitude cut (lab.cvacv), on exact counts."""
from __future__ import annotations

import numpy as np
import pytest

from lab.cvacv import cut_to_threshold, leave_one_out, sweep
from models.cva import CVADetector
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.runner import PostProcess


def test_cut_to_threshold_inverts_the_score():
    assert cut_to_threshold(2.5, 2.5) == pytest.approx(0.5)
    m = np.array([1.0, 2.0, 3.0])
    for cut, m0 in ((2.0, 2.5), (1.5, 1.25)):
        score = 1 - 2.0 ** (-(m / m0) ** 2)
        assert np.array_equal(score > cut_to_threshold(cut, m0) + 1e-12, m > cut + 1e-9)


def test_leave_one_out_never_uses_the_held_out_image():
    good, bad = Confusion(tp=90, fp=10, fn=10, tn=890), Confusion(tp=10, fp=90, fn=90, tn=810)
    # a, b prefer cut 0; c prefers cut 1 alone (with huge counts it would dominate a pooled choice)
    table = {"a": [good, bad], "b": [good, bad], "c": [Confusion(tp=1, fp=9, fn=9, tn=981),
                                                     Confusion(tp=9, fp=1, fn=1, tn=989)]}
    rec = leave_one_out(table, cuts=(1.0, 2.0))
    assert rec["folds"]["c"]["cut"] == 1.0  # chosen on a and b only, although 2.0 is best for c
    assert rec["folds"]["c"]["f1"] == pytest.approx(0.1)
    assert rec["modal_cut"] == 1.0 and rec["modal_folds"] == 3
    held = Confusion(tp=181, fp=29, fn=29, tn=2761)
    assert rec["pooled"]["tp"] == held.tp and rec["pooled"]["f1"] == pytest.approx(round(held.f1, 4))


def test_sweep_matches_the_detector_at_its_own_cut():
    rng = np.random.default_rng(3)
    shape = (80, 80)
    before = {r: rng.normal(0.2, 0.01, shape).astype(np.float32) for r in ("red", "green", "blue")}
    after = {r: (x + rng.normal(0, 0.01, shape)).astype(np.float32) for r, x in before.items()}
    truth = np.zeros(shape, bool)
    truth[20:40, 20:45] = True
    for x in after.values():
        x[truth] += 0.2
    det = CVADetector()
    confs = sweep(det, before, after, truth, "synthetic", cuts=(0.5, 1.25, 50.0))
    assert confs[1].f1 == pytest.approx(1.0)  # 1.25 = m0 for RGB: the detector's own decision
    assert confs[0].fp > 0 and confs[2].tp == 0
    assert confs[1].tp == int(truth.sum())
    assert PostProcess().apply(truth).sum() == truth.sum()
