"""v4.7 candidate, rejected (models/README.md): gbm v6 on 2 x 2 pixel cells against per pixel.

    python -m lab.cell_study --study samples --out lab/results/v4.7-cells
    python -m lab.cell_study --study aerial --out lab/results/v4.7-cells

``samples``: the shipped gbm v6 over ``samples/`` (never trained or tuned on) at cell 1 and at
each ``--cells`` value, as ``landpatrol evaluate pairs`` scores it (the product's clean-up).
``aerial``: leave-one-pair-out on the 6 aerial pairs with the fold models and fold cuts of v4.5
(c) (configuration ``reg-lite``, smoothing 7, the same code and seed as ``landpatrol train
cv-ensemble --config reg-lite --smooth 7 --only aerial``, so cell 1 reproduces its gbm row);
each held-out pair is scored per pixel and on each cell size with the same booster and cut.
Training and scoring both use scipy's filters, as ``landpatrol train`` does.
One JSON per study under ``--out``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from lab.cells import CellGBM, cell_probability
from models import filters
from models.gbm import rescale
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.pairs import evaluate_pairs
from pipeline.evaluate.runner import PostProcess


def quiet(_message: str) -> None:
    """No progress lines."""


def samples_study(data: Path, cells: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cell in [1, *cells]:
        t0 = time.perf_counter()
        rec = evaluate_pairs(data / "samples", CellGBM(cell), progress=quiet)
        rec["seconds"] = round(time.perf_counter() - t0, 1)
        out[f"cell{cell}"] = rec
        print(f"samples cell {cell}: F1 {rec['pooled']['f1']}", file=sys.stderr, flush=True)
    return out


def aerial_study(data: Path, cells: list[int]) -> dict[str, Any]:
    from lab.gbm_train import (
        CONFIGS,
        SEED,
        aerial_folds,
        build_table,
        default_say,
        oscd_images,
        pair_images,
    )

    config = dataclasses.replace(CONFIGS["reg-lite"], smooth_px=7)
    post = PostProcess()
    images = oscd_images(data / "oscd") + pair_images(data / "aerial", "aerial")
    table = build_table(images, "rgb", say=default_say, config=config)
    feats: dict[int, np.ndarray] = {}
    held: dict[str, list[Confusion]] = {f"cell{c}": [] for c in [1, *cells]}
    folds: dict[str, Any] = {}
    for k, _train, booster, cut in aerial_folds(table, "rgb", SEED, config, feats):
        group = table.groups[k]
        im = table.images[k]
        name = group.split("/", 1)[1]
        folds[name] = {"gbm_cut": cut}
        for cell in [1, *cells]:
            prob = cell_probability(booster, im.before, im.after, im.valid, im.scene, "rgb", config.smooth_px,
                                    config.wide, cell, num_threads=1)
            mask = post.apply((rescale(prob, cut) > 0.5) & im.valid, None) & im.valid
            conf = Confusion.from_masks(mask, im.label)
            held[f"cell{cell}"].append(conf)
            folds[name][f"cell{cell}"] = conf.to_dict()
        print(f"aerial {name}: cut {cut:.2f}, " + ", ".join(
            f"cell {c} F1 {folds[name][f'cell{c}']['f1']:.3f}" for c in [1, *cells]), file=sys.stderr, flush=True)
    return {"seed": SEED, "gbm_config": config.to_dict(), "postprocess": post.describe(None),
            "pooled": {k: pooled(v).to_dict() for k, v in held.items()}, "folds": folds}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--study", choices=("samples", "aerial"), required=True)
    ap.add_argument("--cells", default="2", help="cell sizes besides 1 (comma-separated)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    cells = [int(c) for c in args.cells.split(",") if c.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with filters.reference():
        rec = samples_study(args.data, cells) if args.study == "samples" else aerial_study(args.data, cells)
    rec["seconds_total"] = round(time.perf_counter() - t0, 1)
    (args.out / f"{args.study}.json").write_text(json.dumps(rec, indent=1) + "\n")
    print(json.dumps({k: v.get("f1") for k, v in rec.get("pooled", {}).items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
