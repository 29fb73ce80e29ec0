"""The rejected v4.7 candidate's cells (lab/cells.py): exact resampling; cell 1 is the shipped gbm."""
from __future__ import annotations

import numpy as np
import pytest

from lab.cells import CellGBM, from_cells, to_cells
from models.gbm import GBMDetector
from tests.test_gbm import synthetic_pair


def test_to_cells_means_blocks_and_repeats_a_ragged_edge() -> None:
    x = np.arange(20, dtype=np.float32).reshape(4, 5)
    c = to_cells(x, 2)
    assert c.shape == (2, 3) and c.dtype == np.float32
    assert c[0, 0] == pytest.approx((0 + 1 + 5 + 6) / 4)
    assert c[1, 2] == pytest.approx((14 + 14 + 19 + 19) / 4)   # the last column repeated
    assert np.array_equal(to_cells(x, 1), x)


def test_from_cells_is_bilinear_between_cell_centres() -> None:
    p = np.array([[0.0, 4.0]], np.float32)
    np.testing.assert_allclose(from_cells(p, 2, (1, 4))[0], [0.0, 1.0, 3.0, 4.0])
    const = from_cells(np.full((3, 4), 0.7, np.float32), 2, (5, 7))
    assert const.shape == (5, 7) and np.allclose(const, 0.7)


def test_cell_one_is_the_shipped_detector_and_cell_two_still_finds_change(tiny_detector: GBMDetector) -> None:
    img = synthetic_pair(7, (130, 140))
    valid = np.ones(img.label.shape, bool)
    kw = {"boosters": tiny_detector._boosters, "version": "test", "num_threads": 1}   # the same trees
    scene = tiny_detector.fit_scene(img.before, img.after, valid)
    ref = tiny_detector.detect(img.before, img.after, valid, scene).score
    np.testing.assert_array_equal(CellGBM(1, **kw).detect(img.before, img.after, valid, scene).score, ref)
    two = CellGBM(2, **kw).detect(img.before, img.after, valid, scene).score
    assert two.shape == ref.shape and not np.array_equal(two, ref)
    assert (two > 0.5)[img.label].mean() > 0.5 and (two > 0.5)[~img.label].mean() < 0.05
