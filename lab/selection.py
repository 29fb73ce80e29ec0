"""Choosing a training configuration without looking at a held-out city (nested selection).

For every outer OSCD city ``k`` and every other city ``j``, a model trained on the remaining
cities predicts ``j`` whole; on the out-of-fold maps of the cities ``j != k`` the best
(cut, smoothing) is found exactly as :func:`lab.gbm_train.fit_model` finds the cut, and that
best *inner* F1 is the selection score of fold ``k``. The held-out city ``k`` is never scored
here: these numbers may be compared between configurations freely.

The model without ``{j, k}`` serves both the fold ``k`` (predicting ``j``) and the fold ``j``
(predicting ``k``), so ``n (n - 1) / 2`` boosters cover all ``n`` folds. Probabilities are
predicted unsmoothed once; each smoothing width of ``smooth_grid`` is a box filter on them.
"""
from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from lab.gbm_train import (
    SEED,
    Say,
    Table,
    TrainConfig,
    best_threshold,
    build_table,
    default_say,
    oscd_images,
    train_booster,
)
from models.features import compute_features
from models.gbm import probability_map

SMOOTH_GRID = (1, 3, 5, 7)


def _smooth(prob: np.ndarray, px: int) -> np.ndarray:
    return ndimage.uniform_filter(prob, px, mode="reflect") if px > 1 else prob


def nested_inner_scores(table: Table, band_set: str, config: TrainConfig, smooth_grid: tuple[int, ...] = SMOOTH_GRID,
                        say: Say = default_say) -> dict[str, Any]:
    """Per outer group: the inner out-of-fold F1 (cleaned, pooled) and cut for each smoothing width."""
    n = len(table.groups)
    if n < 3:
        raise ValueError(f"nested selection needs at least 3 groups, got {n}")
    raw: dict[tuple[int, int], np.ndarray] = {}
    for j, k in itertools.combinations(range(n), 2):
        rest = [g for g in range(n) if g not in (j, k)]
        booster = train_booster(table.x_fit[np.isin(table.g_fit, rest)], table.y_fit[np.isin(table.g_fit, rest)],
                                band_set, SEED, config)
        for target, other in ((j, k), (k, j)):
            im = table.images[target]
            feats = compute_features(im.before, im.after, im.scene, band_set, config.wide)
            raw[(target, other)] = probability_map(booster, feats, im.valid, 1, num_threads=1)
        say(f"  pair model without {table.groups[j]}, {table.groups[k]}")
    folds: dict[str, Any] = {}
    for k in range(n):
        inner = [j for j in range(n) if j != k]
        per_smooth = {}
        for px in smooth_grid:
            cut, conf = best_threshold([_smooth(raw[(j, k)], px) for j in inner], [table.images[j] for j in inner])
            per_smooth[str(px)] = {"inner_f1": round(conf.f1, 4), "cut": cut}
        folds[table.groups[k]] = per_smooth
        say(f"fold {table.groups[k]}: " + ", ".join(f"smooth {p}: {v['inner_f1']:.3f}" for p, v in per_smooth.items()))
    mean = {str(px): round(float(np.mean([folds[g][str(px)]["inner_f1"] for g in folds])), 4) for px in smooth_grid}
    return {"folds": folds, "mean_inner_f1": mean}


def select_oscd(data: Path, config: TrainConfig, smooth_grid: tuple[int, ...] = SMOOTH_GRID,
                say: Say = default_say) -> dict[str, Any]:
    """The record of ``landpatrol train select``: nested inner scores of one configuration on OSCD."""
    t0 = time.perf_counter()
    table = build_table(oscd_images(data / "oscd"), "full", say=say, config=config)
    record = {"config": config.to_dict(), "band_set": "full", "smooth_grid": list(smooth_grid),
              "oscd_nested": nested_inner_scores(table, "full", config, smooth_grid, say)}
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record
