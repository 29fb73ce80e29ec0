"""Training the GBM detector, with honest (nested) cross-validation.

Everything is seeded and single-threaded, so one command reproduces the artifact bit for bit.
Pixels are sampled per image: up to ``n_per_class`` changed and as many unchanged pixels for
fitting (each image weighs about the same), plus a uniform ``tune_fraction`` of all valid
pixels for choosing the decision threshold, so that the threshold sees true class prevalence.

The threshold is always chosen on out-of-fold predictions *inside* the training groups
(leave-one-group-out, or round-robin ``INNER_FOLDS``-fold when there are more than that many
groups); a held-out city or pair is only ever used to score the finished fold model.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.features import feature_names
from models.gbm import fit_scene_params, scene_features
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.oscd import labelled_cities, read_city
from pipeline.evaluate.pairs import find_pairs
from pipeline.evaluate.runner import pair_valid

SEED = 20240601
INNER_FOLDS = 3
PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.1, "num_leaves": 31, "min_data_in_leaf": 200,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "max_bin": 63, "num_threads": 1, "deterministic": True, "force_col_wise": True, "verbosity": -1,
}
NUM_ROUNDS = 120
Say = Callable[[str], None]


@dataclass(frozen=True)
class TrainImage:
    group: str
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    label: np.ndarray


@dataclass(frozen=True)
class Table:
    """Sampled feature rows: ``fit`` rows (class-balanced) and ``tune`` rows (uniform)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    g_fit: np.ndarray
    x_tune: np.ndarray
    y_tune: np.ndarray
    g_tune: np.ndarray
    groups: list[str]


def oscd_images(root: Path) -> list[TrainImage]:
    out = []
    for name in labelled_cities(root):
        c = read_city(root, name)
        out.append(TrainImage(f"oscd/{name}", c.before, c.after, c.label))
    return out


def pair_images(root: Path, prefix: str) -> list[TrainImage]:
    return [
        TrainImage(f"{prefix}/{p.name}", read_stack(p.before), read_stack(p.after), read_mask(p.label))
        for p in find_pairs(root, lambda _m: None)
    ]


def build_table(images: Sequence[TrainImage], band_set: str, seed: int = SEED, n_per_class: int = 8_000,
                tune_fraction: float = 0.125, say: Say | None = None) -> Table:
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("xf", "yf", "gf", "xt", "yt", "gt")}
    groups = [im.group for im in images]
    for gi, im in enumerate(images):
        valid = pair_valid(im.before, im.after)
        scene = fit_scene_params(im.before, im.after, valid)
        feats, _, _ = scene_features(im.before, im.after, scene, band_set)
        flat = feats.reshape(feats.shape[0], -1)
        idx = np.flatnonzero(valid.ravel())
        lab = im.label.ravel()[idx]
        pick = [rng.permutation(idx[lab == v])[:n_per_class] for v in (True, False)]
        fit_idx = np.sort(np.concatenate(pick))
        tune_idx = np.sort(rng.choice(idx, size=max(1, int(idx.size * tune_fraction)), replace=False))
        for key, rows in (("f", fit_idx), ("t", tune_idx)):
            parts["x" + key].append(flat[:, rows].T.copy())
            parts["y" + key].append(im.label.ravel()[rows])
            parts["g" + key].append(np.full(rows.size, gi, np.int16))
        if say:
            say(f"features {band_set} {im.group}: {fit_idx.size} fit rows, {tune_idx.size} tune rows, shift={scene['shift']}")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return Table(cat["xf"], cat["yf"], cat["gf"], cat["xt"], cat["yt"], cat["gt"], groups)


def train_booster(x: np.ndarray, y: np.ndarray, band_set: str, seed: int = SEED) -> Any:
    import lightgbm as lgb

    data = lgb.Dataset(x, label=y.astype(np.float32), feature_name=feature_names(band_set), free_raw_data=True)
    params = dict(PARAMS, seed=seed, bagging_seed=seed, feature_fraction_seed=seed, data_random_seed=seed)
    return lgb.train(params, data, num_boost_round=NUM_ROUNDS)


def best_threshold(prob: np.ndarray, truth: np.ndarray) -> float:
    """The probability cut maximising F1 of ``prob > cut`` (grid 0.05..0.95 by 0.01)."""
    best, best_f1 = 0.5, -1.0
    for cut in np.round(np.arange(0.05, 0.951, 0.01), 2):
        f1 = Confusion.from_masks(prob > cut, truth).f1
        if f1 > best_f1:
            best, best_f1 = float(cut), f1
    return best


def inner_folds(groups: Sequence[int]) -> list[list[int]]:
    g = sorted(groups)
    if len(g) <= INNER_FOLDS + 2:
        return [[x] for x in g]
    return [g[i::INNER_FOLDS] for i in range(INNER_FOLDS)]


def fit_model(table: Table, train_groups: Iterable[int], band_set: str, seed: int = SEED,
              say: Say | None = None) -> tuple[Any, float, dict[str, Any]]:
    """Booster on ``train_groups`` and its threshold from inner out-of-fold predictions."""
    train_groups = sorted(train_groups)
    probs, truths = [], []
    for fold in inner_folds(train_groups):
        rest = [g for g in train_groups if g not in fold]
        m = np.isin(table.g_fit, rest)
        booster = train_booster(table.x_fit[m], table.y_fit[m], band_set, seed)
        t = np.isin(table.g_tune, fold)
        probs.append(booster.predict(table.x_tune[t], num_threads=1))
        truths.append(table.y_tune[t])
    prob, truth = np.concatenate(probs), np.concatenate(truths)
    cut = best_threshold(prob, truth)
    inner = Confusion.from_masks(prob > cut, truth)
    m = np.isin(table.g_fit, train_groups)
    booster = train_booster(table.x_fit[m], table.y_fit[m], band_set, seed)
    info = {"threshold": cut, "inner_cv_f1": round(inner.f1, 4), "train_groups": [table.groups[g] for g in train_groups]}
    if say:
        say(f"  model {band_set} on {len(train_groups)} groups: threshold={cut:.2f} inner-cv F1={inner.f1:.3f}")
    return booster, cut, info


def default_say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
