"""Nested selection of training configurations (lab/selection.py) on synthetic pairs."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lab.gbm_train import CONFIGS, TrainConfig, build_table, fit_model
from lab.selection import nested_inner_scores
from models.features import compute_features, feature_names, feature_radius
from models.gbm import GBMDetector
from tests.test_gbm import synthetic_pair


@pytest.fixture(scope="module")
def table():
    return build_table([synthetic_pair(s) for s in range(4)], "rgb", n_per_class=400)


def test_nested_scores_match_fit_model_inner_cv(table) -> None:
    """Fold k's score at the configured smoothing is exactly what fit_model reports without k."""
    config = TrainConfig(n_per_class=400)
    rec = nested_inner_scores(table, "rgb", config, smooth_grid=(1, 3), say=lambda m: None)
    assert list(rec["folds"]) == table.groups
    for k, group in enumerate(table.groups):
        _, cut, info = fit_model(table, [g for g in range(4) if g != k], "rgb", config=config)
        assert rec["folds"][group]["3"]["inner_f1"] == pytest.approx(info["inner_cv_f1"], abs=1e-4)
        assert rec["folds"][group]["3"]["cut"] == pytest.approx(cut)
    assert set(rec["mean_inner_f1"]) == {"1", "3"}
    assert all(0.5 < v <= 1.0 for v in rec["mean_inner_f1"].values())  # the planted roofs are easy


def test_nested_selection_needs_three_groups() -> None:
    small = build_table([synthetic_pair(s) for s in range(2)], "rgb", n_per_class=100)
    with pytest.raises(ValueError, match="at least 3 groups"):
        nested_inner_scores(small, "rgb", TrainConfig(), say=lambda m: None)


def test_wide_block_is_window_invariant_within_its_radius() -> None:
    rng = np.random.default_rng(3)
    shape = (150, 160)
    roles = ("red", "green", "blue", "nir", "swir1", "swir2")
    b = {r: rng.uniform(0.02, 0.3, shape).astype(np.float32) for r in roles}
    a = {r: v * 0.9 for r, v in b.items()}
    a["red"][60:70, 60:70] += 0.2
    scene = {"scale": {r: 0.08 for r in roles}, "bright_mean": 0.15, "cva_ref": 2.0, "cvaf_ref": 3.0}
    whole = compute_features(b, a, scene, "full", wide=True)
    assert whole.shape[0] == len(feature_names("full", wide=True)) > len(feature_names("full"))
    pad = feature_radius(wide=True)
    r0, c0, h, w = 60, 62, 10, 12
    win = (slice(r0 - pad, r0 + h + pad), slice(c0 - pad, c0 + w + pad))
    part = compute_features({k: v[win] for k, v in b.items()}, {k: v[win] for k, v in a.items()}, scene, "full", wide=True)
    np.testing.assert_allclose(part[:, pad:-pad, pad:-pad], whole[:, r0:r0 + h, c0:c0 + w], rtol=1e-4, atol=1e-5)


def test_config_reaches_booster_and_detector(table) -> None:
    config = dataclasses.replace(CONFIGS["wide"], n_per_class=400, rounds=20, smooth_px=5)
    wide_table = build_table([synthetic_pair(s) for s in range(3)], "rgb", config=config)
    assert wide_table.x_fit.shape[1] == len(feature_names("rgb", wide=True))
    booster, cut, _ = fit_model(wide_table, range(3), "rgb", config=config)
    assert booster.num_trees() == 20
    det = GBMDetector({"rgb": (booster, cut)}, smooth_px=config.smooth_px, wide=True)
    assert det.halo == GBMDetector({}, smooth_px=5).halo + feature_radius(True) - feature_radius(False)
    assert config.to_dict()["params"]["learning_rate"] == 0.1 and CONFIGS["reg"].to_dict()["params"]["num_leaves"] == 15


@pytest.mark.parametrize("args,named", [
    (["train", "select", "--config", "huge", "--json", "x.json"], "--config"),
    (["train", "cv", "--config", "reg", "--smooth", "4", "--json", "x.json"], "--smooth"),
])
def test_cli_refuses_unknown_configuration(args: list[str], named: str, tmp_path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli.main import app
    from pipeline.errors import ConfigError

    res = CliRunner().invoke(app, args + ["--data", str(tmp_path)])  # run_app turns this into one line, exit 2
    assert isinstance(res.exception, ConfigError) and res.exception.exit_code == 2
    assert named in str(res.exception) and not (tmp_path / "x.json").exists()
