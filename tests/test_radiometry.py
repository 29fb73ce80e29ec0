from __future__ import annotations

import numpy as np
import pytest

from pipeline.radiometry import apply_normalisation, fit_normalisation, pseudo_invariant, robust_line


def _scene(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    before = {r: rng.uniform(0.02, 0.4, (100, 100)).astype(np.float32) for r in ("red", "green", "nir")}
    after = {r: (1.3 * v + 0.05).astype(np.float32) for r, v in before.items()}
    changed = np.zeros((100, 100), bool)
    changed[:30, :30] = True  # 9 % really changed: made bright in every band
    for v in after.values():
        v[changed] = 0.9
    return before, after, changed


def test_gain_offset_recovered_despite_real_change() -> None:
    before, after, changed = _scene()
    params = fit_normalisation(before, after, np.ones((100, 100), bool))
    for gain, offset in params.values():
        assert gain == pytest.approx(1 / 1.3, rel=0.01)
        assert offset == pytest.approx(-0.05 / 1.3, abs=0.005)
    norm = apply_normalisation(after, params)
    assert np.abs(norm["red"] - before["red"])[~changed].max() < 0.01
    assert np.abs(norm["red"] - before["red"])[changed].mean() > 0.2


def test_pifs_avoid_changed_pixels() -> None:
    before, after, changed = _scene(1)
    pif = pseudo_invariant(before, after, np.ones((100, 100), bool), quantile=0.3)
    assert not (pif & changed).any()
    assert pif.sum() == pytest.approx(3000, rel=0.02)


def test_degenerate_input_is_identity() -> None:
    x = np.full(100, 0.2)
    assert robust_line(x, x * 2) == (1.0, 0.0)
    assert robust_line(np.full(5, np.nan), np.full(5, np.nan)) == (1.0, 0.0)
