from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluate.metrics import Confusion, pooled


def test_counts_and_scores() -> None:
    pred = np.array([[1, 1, 0, 0]], bool)
    truth = np.array([[1, 0, 1, 0]], bool)
    c = Confusion.from_masks(pred, truth)
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 1, 1, 1)
    assert c.precision == pytest.approx(0.5)
    assert c.recall == pytest.approx(0.5)
    assert c.f1 == pytest.approx(0.5)
    assert c.iou == pytest.approx(1 / 3)
    assert c.false_alarm_rate == pytest.approx(0.5)


def test_scored_mask_limits_counting() -> None:
    pred = np.array([1, 1, 0, 0], bool)
    truth = np.array([1, 0, 1, 0], bool)
    c = Confusion.from_masks(pred, truth, scored=np.array([1, 0, 0, 1], bool))
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 0, 0, 1)


def test_pooled_sums_counts_not_scores() -> None:
    big = Confusion(tp=90, fp=10, fn=0, tn=900)     # f1 ~ 0.947
    small = Confusion(tp=0, fp=5, fn=5, tn=90)       # f1 = 0
    p = pooled([big, small])
    assert (p.tp, p.fp, p.fn, p.tn) == (90, 15, 5, 990)
    assert p.f1 == pytest.approx(180 / 200)
    assert p.f1 != pytest.approx((big.f1 + small.f1) / 2)


def test_empty_is_zero_not_error() -> None:
    c = Confusion()
    assert c.f1 == 0.0 and c.precision == 0.0 and c.to_dict()["iou"] == 0.0


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        Confusion.from_masks(np.zeros((2, 2), bool), np.zeros((2, 3), bool))
