"""v3.1 (2026-12-01) experiment: does a per-scene cut by prior shift (EM, Saerens et al. 2002) carry over?

Re-run (about 5-7 min per study on one core):

    .venv/bin/python -m lab.exp_prior_shift oscd
    .venv/bin/python -m lab.exp_prior_shift aerial

For each outer group k (never scored), every other group j is predicted whole by a model
trained without {j, k} (gbm v3's training configuration ``reg``, unsmoothed probabilities);
a cut rule is then scored by *cut transfer*: for each j the cut is chosen on the other inner
groups' maps and applied to j, confusions pooled over j. Results: ``models/README.md``,
section "v4 candidate". The rule was rejected; this script is kept so the record can be re-run.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

from lab.gbm_train import (
    CONFIGS,
    SEED,
    build_table,
    oscd_images,
    pair_images,
    train_booster,
)
from models.features import compute_features
from models.gbm import probability_map
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.runner import PostProcess

CUTS = 1 / (1 + np.exp(-np.arange(-9.0, 4.01, 0.1)))  # wide: prior-shifted scores go far below 0.05
SMOOTH = 7


def nested_maps(data: Path, study: str) -> tuple[list[str], dict, list, list]:
    cfg = CONFIGS["reg"]
    if study == "oscd":
        band, images = "full", oscd_images(data / "oscd")
    else:
        band, images = "rgb", pair_images(data / "aerial", "aerial")
    table = build_table(images, band, config=cfg)
    n, raw = len(table.groups), {}
    for j, k in itertools.combinations(range(n), 2):
        m = np.isin(table.g_fit, [g for g in range(n) if g not in (j, k)])
        booster = train_booster(table.x_fit[m], table.y_fit[m], band, SEED, cfg)
        for t, o in ((j, k), (k, j)):
            im = table.images[t]
            raw[(t, o)] = probability_map(booster, compute_features(im.before, im.after, im.scene, band), im.valid, 1, 1)
        print(f"pair model without {table.groups[j]}, {table.groups[k]}", file=sys.stderr, flush=True)
    return table.groups, raw, [im.valid for im in table.images], [im.label for im in table.images]


def em_prior(p: np.ndarray, train_prior: float = 0.5, iters: int = 1000) -> float:
    """Saerens-Latinne-Decaestecker EM estimate of the change prior of one scene."""
    q, pi = np.clip(p.astype(np.float64), 1e-6, 1 - 1e-6), train_prior
    for _ in range(iters):
        a, b = pi / train_prior * q, (1 - pi) / (1 - train_prior) * (1 - q)
        new = float(np.mean(a / (a + b)))
        if abs(new - pi) < 1e-7:
            return new
        pi = new
    return pi


def score_map(rule: str, p: np.ndarray, valid: np.ndarray) -> np.ndarray:
    if rule != "global":
        damp = {"em": 1.0, "em-half": 0.5}[rule]
        pi = em_prior(p[valid])
        q = np.clip(p, 1e-6, 1 - 1e-6)
        p = (1 / (1 + np.exp(-(np.log(q / (1 - q)) + damp * np.log(pi / (1 - pi)))))).astype(np.float32)
    return ndimage.uniform_filter(p, SMOOTH, mode="reflect")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", choices=("oscd", "aerial"))
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--rules", default="global,em,em-half")
    args = ap.parse_args()
    groups, raw, valid, label = nested_maps(args.data, args.study)
    post, n = PostProcess(), len(groups)
    for rule in args.rules.split(","):
        transfer = []
        for k in range(n):
            inner = [j for j in range(n) if j != k]
            conf = {}
            for j in inner:
                s = score_map(rule, raw[(j, k)], valid[j])
                conf[j] = [Confusion.from_masks(post.apply((s > c) & valid[j]) & valid[j], label[j]) for c in CUTS]

            def pool(js: list[int], ci: int, conf: list = conf) -> Confusion:
                return Confusion(*(sum(getattr(conf[j][ci], f) for j in js) for f in ("tp", "fp", "fn", "tn")))

            picked = [conf[j][max(range(len(CUTS)), key=lambda ci: pool([i for i in inner if i != j], ci).f1)] for j in inner]
            transfer.append(Confusion(*(sum(getattr(c, f) for c in picked) for f in ("tp", "fp", "fn", "tn"))).f1)
        print(f"{rule}: cut-transfer F1 per outer fold {dict(zip(groups, np.round(transfer, 3)))}, mean {np.mean(transfer):.4f}")


if __name__ == "__main__":
    main()
