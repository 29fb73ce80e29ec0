"""v4.10 candidate (models/README.md): `cnn` v3, a small Siamese CNN distilled from gbm v6.

    python -m lab.distill teachers --out DIR            # the teachers' score maps (~8 min)
    python -m lab.distill train --job JOB --out DIR     # one student (~8 min, one thread)
    python -m lab.distill score --out DIR               # held-out numbers of the students
    python -m lab.distill fit --out DIR                 # how well students redraw their teachers

Jobs: ``shipped`` (the shipped gbm v6 ``rgb`` on the 15 images it was trained on: 9 OSCD
cities in red/green/blue and 6 aerial pairs) and ``fold-<pair>`` for each aerial pair (v4.5
(c)'s fold booster and fold cut, ``reg-lite`` with smoothing 7, on the fold's 14 training
images; the held-out pair is seen by neither its teacher nor its student). The student learns
the teacher's score per pixel (soft binary cross-entropy; the teacher's cut sits at 0.5, so
the student's cut is 0.5). Training, as fixed by the rule: :data:`CONFIG`, seed
:data:`lab.cnn_train.SEED`, one thread. Each student is written as a ``cnn`` artifact folder
``DIR/JOB/`` (``cnn-v3.json``, ``cnn-v3-rgb.onnx``) that ``models.cnn.CNNDetector(version="v3",
artifacts=DIR/JOB)`` loads. ``score`` writes ``DIR/score.json``: aerial leave-one-pair-out
pooled F1 of the fold students (and of their teachers, which must reproduce v4.5 (c)'s 0.422)
and the shipped student on ``samples/``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from lab.cnn_train import SEED, CNNConfig, augment, build_net, export_onnx, warmup_cosine
from lab.gbm_train import TrainImage, oscd_images, pair_images
from models.base import rescale
from models.cnn import network_input, receptive_radius, robust_stats
from models.features import RGB
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.runner import PostProcess, pair_valid, run_pair

VERSION = "v3"
CONFIG = CNNConfig(width=16, patch=64, batch=16, steps=1500, lr=3e-3, change_share=0.3, gain_jitter=0.1,
                   offset_jitter=0.1, shift_px=0.5, band_dropout=0.0, dilations=(1, 2, 4, 8),
                   loss="distill", warmup=100, weight_decay=1e-4)
"""The one configuration the rule fixes (v2's network; distillation loss; milder jitter: the
teacher is invariant to a per-date gain and offset and to a sub-pixel shift, by its scene fit)."""


def images(data: Path) -> list[TrainImage]:
    """The 15 images gbm v6's ``rgb`` booster was trained on, red/green/blue only."""
    out = []
    for im in oscd_images(data / "oscd") + pair_images(data / "aerial", "aerial"):
        out.append(TrainImage(im.group, {r: im.before[r] for r in RGB}, {r: im.after[r] for r in RGB}, im.label))
    return out


def jobs(groups: Sequence[str]) -> list[str]:
    return ["shipped"] + [f"fold-{g.split('/', 1)[1].replace('/', '-')}" for g in groups if g.startswith("aerial/")]


def fold_group(job: str, groups: Sequence[str]) -> str | None:
    """The held-out aerial group of a fold job (None for ``shipped``)."""
    for g in groups:
        if g.startswith("aerial/") and job == f"fold-{g.split('/', 1)[1].replace('/', '-')}":
            return g
    return None


def _save(path: Path, maps: dict[str, np.ndarray]) -> None:
    np.savez_compressed(path, **cast(dict[str, Any], maps))


def teachers(data: Path, out: Path) -> dict[str, Any]:
    """Teacher score maps per job (``DIR/teach-JOB.npz``: one float16 map per training group)."""
    from lab.gbm_train import CONFIGS, aerial_folds, build_table, default_say, image_probability
    from lab.gbm_train import SEED as GBM_SEED
    from models import filters
    from models.gbm import GBMDetector

    ims = images(data)
    groups = [im.group for im in ims]
    out.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"groups": groups, "folds": {}}
    shipped = GBMDetector(num_threads=1)
    maps = {}
    for im in ims:
        res = run_pair(shipped, im.before, im.after, im.group)
        maps[im.group] = res.change.score.astype(np.float16)
    _save(out / "teach-shipped.npz", maps)
    print("teachers: shipped done", file=sys.stderr, flush=True)
    config = dataclasses.replace(CONFIGS["reg-lite"], smooth_px=7)
    post = PostProcess()
    held: list[Confusion] = []
    with filters.reference():   # as training computes its features
        # the table of v4.5 (c) and lab/cell_study.py: OSCD with all its bands (they set the
        # valid pixels and so the sampled rows), features of the rgb band set
        full = oscd_images(data / "oscd") + pair_images(data / "aerial", "aerial")
        table = build_table(full, "rgb", say=default_say, config=config)
        feats: dict[int, np.ndarray] = {}
        for k, train, booster, cut in aerial_folds(table, "rgb", GBM_SEED, config, feats):
            group = table.groups[k]
            maps = {table.groups[g]: rescale(image_probability(table, g, booster, "rgb", config, feats), cut)
                    .astype(np.float16) for g in train}
            job = jobs([group])[1]
            _save(out / f"teach-{job}.npz", maps)
            prep = table.images[k]
            score = rescale(image_probability(table, k, booster, "rgb", config, feats), cut)
            mask = post.apply((score > 0.5) & prep.valid, None) & prep.valid
            conf = Confusion.from_masks(mask, prep.label)
            held.append(conf)
            record["folds"][job] = {"cut": cut, "teacher_held_out": conf.to_dict()}
            print(f"teachers: {job} cut {cut:.2f} held-out F1 {conf.f1:.3f}", file=sys.stderr, flush=True)
    record["teacher_aerial_pooled"] = pooled(held).to_dict()
    (out / "teachers.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def _inputs(im: TrainImage) -> tuple[np.ndarray, np.ndarray]:
    roles = list(RGB)
    valid = pair_valid(im.before, im.after)
    x = network_input(im.before, im.after, valid, roles, robust_stats(im.before, valid, roles),
                      robust_stats(im.after, valid, roles))[0]
    return x, valid


def sample_batch(xs: Sequence[np.ndarray], targets: Sequence[np.ndarray], valids: Sequence[np.ndarray],
                 rng: np.random.Generator, cfg: CNNConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cfg.batch`` patches; ``cfg.change_share`` of them centred on a pixel the teacher flags."""
    p, bx, by, bm = cfg.patch, [], [], []
    for _ in range(cfg.batch):
        i = int(rng.integers(len(xs)))
        x, t, v = xs[i], targets[i], valids[i]
        rows, cols = t.shape
        flagged = np.flatnonzero(t.ravel() > 0.5)
        if rng.random() < cfg.change_share and flagged.size:
            yy, xx = divmod(int(flagged[int(rng.integers(flagged.size))]), cols)
            r0 = int(np.clip(yy - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, rows - p))
            c0 = int(np.clip(xx - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, cols - p))
        else:
            r0, c0 = int(rng.integers(rows - p + 1)), int(rng.integers(cols - p + 1))
        sl = (slice(r0, r0 + p), slice(c0, c0 + p))
        both = np.stack([t[sl], v[sl].astype(np.float32)])
        xa, ba = augment(x[:, sl[0], sl[1]], both.transpose(1, 2, 0), rng, cfg, 3)
        bx.append(xa)
        by.append(ba[..., 0])
        bm.append(ba[..., 1])
    return np.stack(bx), np.stack(by).astype(np.float32), np.stack(bm).astype(np.float32)


def train_student(xs: Sequence[np.ndarray], targets: Sequence[np.ndarray], valids: Sequence[np.ndarray],
                  cfg: CNNConfig = CONFIG, seed: int = SEED) -> tuple[Any, dict[str, Any]]:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    net = build_net(3, cfg.width, cfg.dilations)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_cosine(s, cfg.steps, cfg.warmup))
    t0, running = time.perf_counter(), 0.0
    for step in range(cfg.steps):
        xb, yb, mb = sample_batch(xs, targets, valids, rng, cfg)
        logit = net(torch.from_numpy(xb))[:, 0]
        y, m = torch.from_numpy(yb), torch.from_numpy(mb)
        loss_px = torch.nn.functional.binary_cross_entropy_with_logits(logit, y, reduction="none")
        loss = (loss_px * m).sum() / m.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * float(loss.detach()) if step else float(loss.detach())
        if step % 100 == 0 or step == cfg.steps - 1:
            print(f"distill step {step}: loss {running:.4f} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)
    return net.eval(), {"train_seconds": round(time.perf_counter() - t0, 1), "final_loss": round(running, 5)}


def train_job(data: Path, out: Path, job: str) -> Path:
    """Train one student on its teacher's maps; write its ``cnn`` artifact folder ``out/job``."""
    maps = np.load(out / f"teach-{job}.npz")
    ims = [im for im in images(data) if im.group in maps.files]
    xs, targets, valids = [], [], []
    for im in ims:
        x, valid = _inputs(im)
        t = np.asarray(maps[im.group], np.float32)
        xs.append(x)
        targets.append(np.where(valid, np.clip(t, 0.0, 1.0), 0.0).astype(np.float32))
        valids.append(valid)
    net, info = train_student(xs, targets, valids)
    folder = out / job
    folder.mkdir(parents=True, exist_ok=True)
    model = f"cnn-{VERSION}-rgb.onnx"
    export_onnx(net, 3, folder / model)
    meta = {"name": "cnn", "version": VERSION, "seed": SEED, "config": dataclasses.asdict(CONFIG),
            "receptive_radius": receptive_radius(CONFIG.dilations), "dilations": list(CONFIG.dilations),
            "teacher": "gbm v6 rgb" if job == "shipped" else f"gbm reg-lite fold booster ({job})",
            "band_sets": {"rgb": {"model": model, "bands": list(RGB), "cut": 0.5,
                                  "train_groups": [im.group for im in ims], **info}}}
    (folder / f"cnn-{VERSION}.json").write_text(json.dumps(meta, indent=1) + "\n")
    return folder


def score(data: Path, out: Path) -> dict[str, Any]:
    from models.cnn import CNNDetector
    from pipeline.evaluate.pairs import evaluate_pairs

    teach = json.loads((out / "teachers.json").read_text())
    post = PostProcess()
    held: list[Confusion] = []
    folds: dict[str, Any] = {}
    for im in pair_images(data / "aerial", "aerial"):
        job = jobs([im.group])[1]
        det = CNNDetector(version=VERSION, artifacts=out / job)
        res = run_pair(det, {r: im.before[r] for r in RGB}, {r: im.after[r] for r in RGB}, im.group, post=post)
        conf = Confusion.from_masks(res.mask, im.label)
        held.append(conf)
        folds[job] = {"student": conf.to_dict(), "teacher": teach["folds"][job]["teacher_held_out"]}
        print(f"score {job}: student F1 {conf.f1:.3f}, teacher {folds[job]['teacher']['f1']:.3f}", file=sys.stderr, flush=True)
    samples = evaluate_pairs(data / "samples", CNNDetector(version=VERSION, artifacts=out / "shipped"),
                             progress=lambda _m: None)
    rec = {"aerial_pooled": {"student": pooled(held).to_dict(), "teacher": teach["teacher_aerial_pooled"]},
           "aerial_folds": folds, "samples": samples}
    (out / "score.json").write_text(json.dumps(rec, indent=1) + "\n")
    return rec


def fit(data: Path, out: Path, jobs_: Sequence[str] = ("shipped", "fold-Archieve", "fold-Tiszadob-3")) -> dict[str, Any]:
    """A diagnostic after ``score``: IoU of each student's mask (score > 0.5) with its teacher's
    (map > 0.5) on the teacher's own training images (``DIR/fit.json``; by default the shipped
    student and the folds whose held-out pair is the teachers' best, Tiszadob/3, and the largest,
    Archieve). Low IoU there means the student cannot draw its teacher's function at all
    (under-fitting), not that it fails to generalise."""
    from models.cnn import CNNDetector

    by_group = {im.group: im for im in images(data)}
    rec: dict[str, Any] = {}
    for job in jobs_:
        maps = np.load(out / f"teach-{job}.npz")
        det = CNNDetector(version=VERSION, artifacts=out / job)
        per, confs = {}, []
        for g in maps.files:
            im = by_group[g]
            student = run_pair(det, im.before, im.after, g).change.score > 0.5
            conf = Confusion.from_masks(student, np.asarray(maps[g], np.float32) > 0.5)  # the teacher as truth
            confs.append(conf)
            per[g] = {"iou": round(conf.iou, 3), "teacher_px": conf.tp + conf.fn, "student_px": conf.tp + conf.fp}
        rec[job] = {"pooled_iou": round(pooled(confs).iou, 3), "images": per}
        print(f"fit {job}: pooled IoU with its teacher {rec[job]['pooled_iou']:.3f}", file=sys.stderr, flush=True)
    (out / "fit.json").write_text(json.dumps(rec, indent=1) + "\n")
    return rec


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=("teachers", "train", "score", "fit"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--job", help="train: shipped or fold-<pair>")
    args = ap.parse_args(argv)
    if args.stage == "teachers":
        teachers(args.data, args.out)
    elif args.stage == "train":
        if not args.job:
            ap.error("train needs --job")
        print(train_job(args.data, args.out, args.job), file=sys.stderr)
    elif args.stage == "fit":
        fit(args.data, args.out)
    else:
        rec = score(args.data, args.out)
        print(json.dumps({"aerial": rec["aerial_pooled"]["student"]["f1"], "samples": rec["samples"]["pooled"]["f1"],
                          "samples_object_recall": rec["samples"]["pooled_objects"]}), file=sys.stderr)


if __name__ == "__main__":
    main()
