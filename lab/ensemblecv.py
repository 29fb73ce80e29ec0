"""Choosing the ``ensemble`` constant honestly: gbm fold models + cva, leave-one-out.

For each held-out OSCD city (``full`` band set) or aerial pair (``rgb``) the gbm fold model is
built as ``landpatrol train cv`` builds it (:func:`lab.gbm_train.fit_model`: inner out-of-fold
whole-image maps of the training images choose gbm's cut, then a booster on all training
images). Here the inner maps are kept: combined with cva's score they choose the ensemble
constant (best pooled cleaned F1 over the *training* images), which is then applied to the
held-out image scored by the fold model. Held-out confusion counts are pooled. gbm alone
(``g > 0.5``) and cva alone (``s > 0.5``) are scored on the same maps for reference.

The shipped constant per band set is chosen on the pooled out-of-fold maps of the held-out
images of that study. Nanjing and ``samples/`` are never used. Fold probabilities are cached
as ``.npz`` under ``cache`` (deterministic, so a rerun only re-scores).
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lab.gbm_train import (
    SEED,
    Say,
    Table,
    TrainConfig,
    TrainImage,
    build_table,
    default_say,
    image_probability,
    inner_oof,
    oscd_images,
    pair_images,
    train_booster,
)
from models.cva import CVADetector
from models.ensemble import MODES, combine
from models.gbm import rescale
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.oscd import S2_PIXEL_AREA
from pipeline.evaluate.runner import PostProcess, run_pair

GRIDS: dict[str, tuple[float, ...]] = {
    "gate": (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2),
    "geo": tuple(round(0.2 + 0.02 * i, 2) for i in range(31)),
}
"""Constants tried: ``f`` (cva magnitude gate in units of m0) and ``t`` (geometric-mean cut)."""


@dataclass(frozen=True)
class Scored:
    """One image's member scores on its own grid (gbm score with the fold's cut at 0.5)."""

    g: np.ndarray
    s: np.ndarray
    valid: np.ndarray
    label: np.ndarray
    pixel_area: float | None


def confusion(score: np.ndarray, im: Scored, post: PostProcess) -> Confusion:
    mask = post.apply((score > 0.5) & im.valid, im.pixel_area) & im.valid
    return Confusion.from_masks(mask, im.label)


def sweep(im: Scored, mode: str, post: PostProcess) -> list[Confusion]:
    """Cleaned confusion counts of one image for every constant of ``GRIDS[mode]``."""
    return [confusion(combine(im.g, im.s, mode, c), im, post) for c in GRIDS[mode]]


def choose(tables: Sequence[list[Confusion]]) -> tuple[int, float]:
    """Index of the constant with the best pooled F1 over ``tables`` (first best on ties), and that F1."""
    f1 = [pooled(t[i] for t in tables).f1 for i in range(len(tables[0]))]
    i = int(np.argmax(f1))
    return i, float(f1[i])


def cva_scores(images: Sequence[TrainImage]) -> list[np.ndarray]:
    det = CVADetector()
    return [run_pair(det, im.before, im.after, im.group, post=PostProcess.raw()).change.score for im in images]


def fold_probs(table: Table, train: list[int], held: list[int], band_set: str, cache: Path | None,
               feats: dict[int, np.ndarray], say: Say, config: TrainConfig = TrainConfig()) -> tuple[float, dict[int, np.ndarray]]:
    """gbm's fold cut and whole-image maps: inner out-of-fold for ``train``, fold model for ``held``."""
    path = cache / f"{config.name}-s{config.smooth_px}-{band_set}-{'-'.join(map(str, held))}.npz" if cache else None
    if path is not None and path.is_file():
        z = np.load(path)
        return float(z["cut"]), {int(k[1:]): z[k] for k in z.files if k.startswith("p")}

    probs, cut, inner = inner_oof(table, train, band_set, SEED, config, feats)
    m = np.isin(table.g_fit, train)
    booster = train_booster(table.x_fit[m], table.y_fit[m], band_set, SEED, config)
    for g in held:
        probs[g] = image_probability(table, g, booster, band_set, config, feats)
    say(f"  {band_set} fold {held}: gbm cut {cut:.2f}, inner F1 {inner.f1:.3f}")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, cut=cut, **{f"p{g}": p for g, p in probs.items()})
    return cut, probs


def scene_cut_confusion(score: np.ndarray, im: Scored, method: str, post: PostProcess) -> tuple[Confusion, float]:
    """``score`` cut per scene by ``method`` on the image's own valid pixels (as ``NAME:CUT``
    does on its sample; the aerial images are below the sample size, so the sample is all of
    them), cleaned; and the cut."""
    from models.cuts import cut_record

    cut = float(cut_record(np.asarray(score)[im.valid], method)["score"])
    mask = post.apply((score > cut) & im.valid, im.pixel_area) & im.valid
    return Confusion.from_masks(mask, im.label), cut


def study(table: Table, images: Sequence[TrainImage], band_set: str, prefix: str, cache: Path | None,
          say: Say, post: PostProcess, config: TrainConfig = TrainConfig(),
          cuts: Sequence[str] = ()) -> dict[str, Any]:
    """Leave-one-out over the groups starting with ``prefix``; see the module docstring.

    ``cuts``: per-scene cut methods (:mod:`models.cuts`) also scored on each held-out image, on
    the gate ensemble at the fold's constant (``gate:METHOD``) and on gbm alone (``gbm:METHOD``)."""
    s = cva_scores(images)
    area = [S2_PIXEL_AREA if grp.startswith("oscd/") else None for grp in table.groups]
    feats: dict[int, np.ndarray] = {}

    def scored(g: int, p: np.ndarray, cut: float) -> Scored:
        im = table.images[g]
        return Scored(rescale(p, cut), s[g], im.valid, im.label, area[g])

    folds: dict[str, Any] = {}
    per_scene = [f"{who}:{m}" for who in ("gate", "gbm") for m in cuts]
    held_conf: dict[str, list[Confusion]] = {k: [] for k in (*MODES, "gbm", "cva", *per_scene)}
    oof_tables: dict[str, list[list[Confusion]]] = {m: [] for m in MODES}
    for k, group in enumerate(table.groups):
        if not group.startswith(prefix + "/"):
            continue
        say(f"ensemble cv: hold out {group}")
        train = [g for g in range(len(table.groups)) if g != k]
        cut, probs = fold_probs(table, train, [k], band_set, cache, feats, say, config)
        held = scored(k, probs[k], cut)
        name = group.split("/", 1)[1]
        folds[name] = {"gbm_cut": cut}
        for mode in MODES:
            i, f1 = choose([sweep(scored(g, probs[g], cut), mode, post) for g in train])
            table_k = sweep(held, mode, post)
            oof_tables[mode].append(table_k)
            held_conf[mode].append(table_k[i])
            folds[name][mode] = dict(table_k[i].to_dict(), constant=GRIDS[mode][i], train_f1=round(f1, 4))
        for ref, score in (("gbm", held.g), ("cva", held.s)):
            held_conf[ref].append(confusion(score, held, post))
            folds[name][ref] = held_conf[ref][-1].to_dict()
        gate = combine(held.g, held.s, "gate", folds[name]["gate"]["constant"])
        for m in cuts:
            for who, score in (("gate", gate), ("gbm", held.g)):
                conf, cut = scene_cut_confusion(score, held, m, post)
                held_conf[f"{who}:{m}"].append(conf)
                folds[name][f"{who}:{m}"] = dict(conf.to_dict(), cut=round(cut, 6))
        say(f"  {name}: " + ", ".join(f"{m} {folds[name][m]['f1']:.3f}" for m in (*MODES, "gbm", "cva")))
    shipped = {}
    for mode in MODES:
        i, f1 = choose(oof_tables[mode])
        shipped[mode] = {"constant": GRIDS[mode][i], "oof_pooled_f1": round(f1, 4)}
    return {"pooled": {k: pooled(v).to_dict() for k, v in held_conf.items()}, "folds": folds,
            "shipped": shipped, "grids": {m: list(GRIDS[m]) for m in MODES}}


def cross_validate_ensemble(data: Path, parts: tuple[str, ...] = ("oscd", "aerial"), cache: Path | None = None,
                            say: Say = default_say, post: PostProcess | None = None,
                            config: TrainConfig = TrainConfig(), cuts: Sequence[str] = ()) -> dict[str, Any]:
    """The record of ``landpatrol train cv-ensemble``."""
    post = post or PostProcess()
    t0 = time.perf_counter()
    oscd = oscd_images(data / "oscd")
    record: dict[str, Any] = {"seed": SEED, "postprocess": post.describe(S2_PIXEL_AREA), "gbm_config": config.to_dict()}
    if "oscd" in parts:
        table = build_table(oscd, "full", say=say, config=config)
        record["oscd_loco"] = study(table, oscd, "full", "oscd", cache, say, post, config, cuts)
    if "aerial" in parts:
        images = oscd + pair_images(data / "aerial", "aerial")
        table = build_table(images, "rgb", say=say, config=config)
        record["aerial_lopo"] = study(table, images, "rgb", "aerial", cache, say, post, config, cuts)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record


def shipped_constants(record: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """``{mode: {band_set: constant}}`` from a record (full from OSCD, rgb from aerial)."""
    out: dict[str, dict[str, float]] = {m: {} for m in MODES}
    for key, band_set in (("oscd_loco", "full"), ("aerial_lopo", "rgb")):
        for mode in MODES:
            if key in record:
                out[mode][band_set] = record[key]["shipped"][mode]["constant"]
    return out
