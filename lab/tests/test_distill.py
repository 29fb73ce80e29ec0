"""The v4.10 candidate's distillation pieces (lab/distill.py): sampling, targets, a student that learns."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lab.distill import CONFIG, fold_group, jobs, sample_batch


def _scene(p: int = 80) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, p, p)).astype(np.float32)
    target = np.zeros((p, p), np.float32)
    target[50:60, 10:20] = 0.9
    return x, target, np.ones((p, p), bool)


def test_job_names_follow_the_aerial_pairs() -> None:
    groups = ["oscd/paris", "aerial/Archieve", "aerial/Tiszadob/3"]
    assert jobs(groups) == ["shipped", "fold-Archieve", "fold-Tiszadob-3"]
    assert fold_group("fold-Tiszadob-3", groups) == "aerial/Tiszadob/3"
    assert fold_group("shipped", groups) is None


def test_batches_carry_soft_targets_and_centre_on_flagged_pixels() -> None:
    x, target, valid = _scene()
    cfg = dataclasses.replace(CONFIG, batch=8, patch=32, change_share=1.0)
    xb, yb, mb = sample_batch([x], [target], [valid], np.random.default_rng(0), cfg)
    assert xb.shape == (8, 6, 32, 32) and yb.shape == mb.shape == (8, 32, 32)
    assert set(np.unique(yb)) <= {0.0, np.float32(0.9)}          # the soft target kept as given
    assert (yb.reshape(8, -1).max(axis=1) == np.float32(0.9)).all()  # every patch holds the flagged block
    assert (mb == 1).all()
    cfg0 = dataclasses.replace(cfg, change_share=0.0)
    _, yb0, _ = sample_batch([x], [target], [valid], np.random.default_rng(0), cfg0)
    assert (yb0.reshape(8, -1).max(axis=1) == 0).any()           # uniform patches miss it sometimes


def test_a_student_learns_its_teachers_map() -> None:
    pytest.importorskip("torch")
    from lab.distill import train_student

    rng = np.random.default_rng(0)
    p = 64
    b = rng.normal(size=(3, p, p)).astype(np.float32)
    a = b + rng.normal(0, 0.05, (3, p, p)).astype(np.float32)
    a[:, 20:40, 20:40] += 3.0                      # the teacher says: changed here
    target = np.zeros((p, p), np.float32)
    target[20:40, 20:40] = 1.0
    x = np.concatenate([b, a])
    cfg = dataclasses.replace(CONFIG, width=8, dilations=(1, 2), patch=32, batch=8, steps=120, warmup=10)
    net, info = train_student([x], [target], [np.ones((p, p), bool)], cfg)
    import torch

    with torch.no_grad():
        prob = torch.sigmoid(net(torch.from_numpy(x[None]))[0, 0]).numpy()
    flagged, truth = prob > 0.5, target > 0.5
    assert (flagged & truth).sum() / (flagged | truth).sum() > 0.8   # its cut at 0.5 redraws the teacher's mask
    assert info["train_seconds"] > 0


def test_v3_candidate_artifact_loads_small_and_window_invariant() -> None:
    """cnn v3 (rejected by the v4.10 rule, kept in lab/artifacts so its record can be re-run)."""
    import json

    from lab.tests.test_cnn_train import assert_lab_cnn_artifact

    meta = assert_lab_cnn_artifact("v3", CONFIG.dilations)
    assert meta["config"] == json.loads(json.dumps(dataclasses.asdict(CONFIG))) and set(meta["band_sets"]) == {"rgb"}
