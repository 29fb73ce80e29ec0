"""CNN training pieces (lab/cnn_train.py): v2's augmentations and schedule; v1's path unchanged."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lab.cnn_train import CONFIGS, augment, augment_v2, warmup_cosine


def _patch(bands: int = 3, p: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(2 * bands, p, p)).astype(np.float32), rng.random((p, p)) < 0.3


def test_pseudo_pair_is_labelled_unchanged_and_dates_differ_only_by_jitter() -> None:
    x, y = _patch()
    cfg = dataclasses.replace(CONFIGS["v2"], same_pair_p=1.0, blur_p=0.0, noise=0.0, gradient=0.0)
    xa, ya = augment_v2(x, y, np.random.default_rng(0), cfg, 3)
    assert not ya.any() and y.any()
    np.testing.assert_array_equal(xa[3:], xa[:3])  # before any jitter the after date is the before date
    xb, yb = augment(x, y, np.random.default_rng(0), cfg, 3)
    assert not yb.any() and not np.allclose(xb[3:], xb[:3])  # ... after it, gain / shift make them differ


def test_v2_augmentations_keep_shape_and_touch_both_dates() -> None:
    x, y = _patch()
    cfg = dataclasses.replace(CONFIGS["v2"], same_pair_p=0.0, blur_p=1.0)
    xa, ya = augment_v2(x, y, np.random.default_rng(0), cfg, 3)
    assert xa.shape == x.shape and xa.dtype == np.float32 and (ya == y).all()
    assert not np.allclose(xa[:3], x[:3]) and not np.allclose(xa[3:], x[3:])


def test_v1_configuration_draws_no_v2_augmentation() -> None:
    """v1 stays reproducible: its augmentation path consumes exactly v1's random numbers."""
    cfg = CONFIGS["v1"]
    assert not (cfg.same_pair_p or cfg.gradient or cfg.blur_p or cfg.noise)
    x, y = _patch()
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    augment(x, y, r1, cfg, 3)
    k = int(r2.integers(4))  # v1's draws: rotation, flip, gains/offsets per date, shift, dropout
    r2.random()
    for _ in (0, 1):
        r2.uniform(-cfg.gain_jitter, cfg.gain_jitter, 3)
        r2.normal(0, cfg.offset_jitter, 3)
    r2.uniform(-cfg.shift_px, cfg.shift_px, 2)
    if r2.random() < cfg.band_dropout:
        r2.integers(3)
    assert k in range(4) and r1.random() == r2.random()


def test_warmup_then_cosine_to_zero() -> None:
    assert warmup_cosine(0, 100, 10) == pytest.approx(0.1)
    assert warmup_cosine(9, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(10, 100, 10) == pytest.approx(1.0)
    assert warmup_cosine(99, 100, 10) < 0.01


@pytest.mark.parametrize("args,named", [
    (["--band-sets", "nir"], "--band-sets"),
    (["--steps", "0"], "--steps"),
])
def test_train_cnn_refuses_bad_options_before_writing(args: list[str], named: str, tmp_path) -> None:
    pytest.importorskip("torch")
    from typer.testing import CliRunner

    from pipeline.cli.main import app
    from pipeline.errors import ConfigError

    out = tmp_path / "art"
    res = CliRunner().invoke(app, ["train", "cnn", "--data", str(tmp_path), "--out", str(out), *args])
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert named in str(res.exception) and not out.exists()


def assert_lab_cnn_artifact(version: str, dilations: tuple[int, ...]) -> dict:
    """A rejected ``cnn`` candidate kept in lab/artifacts: it loads at its dilations' radius,
    its networks are small, and it is window and tiling invariant; returns its sidecar."""
    import json
    from pathlib import Path

    from models.cnn import CNNDetector, receptive_radius
    from tests.test_cnn import assert_tiling_invariant
    from tests.test_gbm import assert_window_invariant

    art = Path(__file__).resolve().parents[1] / "artifacts"
    meta = json.loads((art / f"cnn-{version}.json").read_text())
    assert meta["dilations"] == list(dilations)
    det = CNNDetector(version=version, artifacts=art)
    assert det.halo == receptive_radius(dilations) == 16
    assert all((art / i["model"]).stat().st_size < 3_000_000 for i in meta["band_sets"].values())
    assert_window_invariant(det)
    assert_tiling_invariant(det)
    return meta


def test_v2_candidate_artifact_loads_small_and_window_invariant() -> None:
    """cnn v2 (rejected, kept in lab/artifacts so its record can be re-run) at its radius of 16 px."""
    meta = assert_lab_cnn_artifact("v2", CONFIGS["v2"].dilations)
    assert meta["config"]["steps"] == CONFIGS["v2"].steps
