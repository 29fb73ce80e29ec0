"""The outline check (models/outline.py) on small arrays."""
from __future__ import annotations

import numpy as np
import pytest

from models.outline import noise_bar, noise_stats, outline_gate, pixel_magnitude, rim_gate


def test_magnitude_and_noise_bar() -> None:
    b = {"red": np.zeros((2, 2), np.float32), "green": np.zeros((2, 2), np.float32)}
    a = {"red": np.array([[0.3, 0], [0, 0]], np.float32), "green": np.array([[0.4, 0], [0, 0]], np.float32)}
    m = pixel_magnitude(b, a, ["red", "green"], {"red": 0.1, "green": 0.1})
    assert m[0, 0] == pytest.approx(5.0) and m[1, 1] == 0.0
    med, mad = noise_stats(np.array([1.0, 2.0, 3.0, np.nan, 100.0]))
    assert (med, mad) == (2.5, 1.0)
    assert noise_bar([2.5, 1.0], 2.0) == pytest.approx(2.5 + 2 * 1.4826)


def test_gate_keeps_only_pixels_that_changed_themselves() -> None:
    score = np.full((1, 3), 0.9, np.float32)
    m = np.array([[0.5, 1.5, 4.0]], np.float32)  # bar 1: below, above, far above
    out = outline_gate(score, m, 1.0)
    assert out[0, 0] <= 0.5 and out[0, 1] > 0.5 and out[0, 2] == pytest.approx(0.9)
    assert np.all(out <= score)


def test_rim_gate_spares_the_core_and_trims_the_rim() -> None:
    score = np.zeros((21, 21), np.float32)
    score[3:18, 3:18] = 0.9          # a 15 x 15 object
    m = np.zeros_like(score)          # no pixel changed on its own, not even the core
    out = rim_gate(score, m, bar=1.0, band_px=2)
    core = np.zeros_like(score, bool)
    core[5:16, 5:16] = True           # the object eroded by a 5 x 5 square
    assert np.all(out[core] == pytest.approx(0.9))
    assert np.all(out[(score > 0.5) & ~core] <= 0.5)
    small = np.zeros((9, 9), np.float32)
    small[3:6, 3:6] = 0.9             # narrower than 2 * band + 1: all rim
    assert np.all(rim_gate(small, np.zeros_like(small), 1.0, 2) <= 0.5)
