"""Choosing ``cva``'s score scale honestly: leave-one-out over a grid of magnitude cuts.

``cva`` calls a pixel changed where its RMS noise-normalised difference ``m`` exceeds ``m0``
(score 0.5). For every image the detector runs once; the mask ``m > c`` is then cleaned by the
product's :class:`PostProcess` and counted for each cut ``c`` of :data:`CUTS`. For each held-out
image the cut with the best pooled F1 over the *other* images is applied to it; confusion counts
of the held-out images are pooled. Nothing is chosen on a held-out image.

Studies: OSCD leave-one-city-out (Sentinel-2, six bands) and the aerial pairs leave-one-pair-out
(RGB). Nanjing and ``samples/`` are never used here; they are test sets.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.base import BandStack, Detector
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.oscd import S2_PIXEL_AREA, labelled_cities, read_city
from pipeline.evaluate.pairs import find_pairs
from pipeline.evaluate.runner import PostProcess, run_pair

CUTS: tuple[float, ...] = tuple(round(1.0 + 0.25 * i, 2) for i in range(13))  # 1.0 .. 4.0
"""Magnitude cuts tried, in noise units (``m0`` = 2.5 for multispectral, 1.25 for RGB in cva 1.1)."""
FINE_CUTS: tuple[float, ...] = tuple(round(0.25 + 0.125 * i, 3) for i in range(31))  # 0.25 .. 4.0
"""Cuts tried with smoothing (``--smooth``): a box-averaged difference has less noise, so lower cuts."""

Say = Callable[[str], None]
Image = tuple[str, BandStack, BandStack, np.ndarray, float | None]


def cut_to_threshold(cut: float, m0: float) -> float:
    """The score threshold equivalent to ``m > cut`` for ``score = 1 - 2 ** (-(m / m0) ** 2)``."""
    return float(1.0 - 2.0 ** (-(cut / m0) ** 2))


def sweep(detector: Detector, before: BandStack, after: BandStack, truth: np.ndarray, source: str,
          cuts: tuple[float, ...] = CUTS, pixel_area: float | None = None,
          post: PostProcess | None = None) -> list[Confusion]:
    """Cleaned confusion counts of one image for every cut (the detector runs once)."""
    post = post or PostProcess()
    res = run_pair(detector, before, after, source, post=PostProcess.raw(), pixel_area=pixel_area)
    m0 = float(res.scene["m0"])  # type: ignore[arg-type]
    out = []
    for c in cuts:
        mask = post.apply((res.change.score > cut_to_threshold(c, m0)) & res.valid, pixel_area) & res.valid
        out.append(Confusion.from_masks(mask, truth))
    return out


def leave_one_out(table: Mapping[str, list[Confusion]], cuts: tuple[float, ...] = CUTS) -> dict[str, Any]:
    """For each held-out image: the cut with the best pooled F1 on the others, and its score there.

    Ties go to the smaller cut index (the first best). Returns per-image choices and the pooled
    held-out confusion, plus the in-sample pooled F1 per cut for reference."""
    names = sorted(table)
    folds: dict[str, Any] = {}
    held = []
    for h in names:
        f1 = [pooled(table[n][i] for n in names if n != h).f1 for i in range(len(cuts))]
        i = int(np.argmax(f1))
        held.append(table[h][i])
        folds[h] = dict(table[h][i].to_dict(), cut=cuts[i], train_f1=round(f1[i], 4))
    insample = [round(pooled(table[n][i] for n in names).f1, 4) for i in range(len(cuts))]
    chosen = [folds[h]["cut"] for h in names]
    modal = max(set(chosen), key=chosen.count)
    return {"pooled": pooled(held).to_dict(), "folds": folds, "cuts": list(cuts),
            "insample_f1_by_cut": insample, "modal_cut": modal, "modal_folds": chosen.count(modal)}


def oscd_images(root: Path) -> Iterator[Image]:
    for name in labelled_cities(root):
        city = read_city(root, name)
        yield name, city.before, city.after, city.label, S2_PIXEL_AREA


def pair_images(root: Path) -> Iterator[Image]:
    for pair in find_pairs(root):
        yield pair.name, read_stack(pair.before), read_stack(pair.after), read_mask(pair.label), None


def study(detector: Detector, images: Iterator[Image], say: Say, cuts: tuple[float, ...] = CUTS) -> dict[str, Any]:
    table = {}
    for name, b, a, truth, area in images:
        table[name] = sweep(detector, b, a, truth, name, cuts, pixel_area=area)
        say(f"cv-cva {name}: best in-image f1 {max(c.f1 for c in table[name]):.3f}")
    return leave_one_out(table, cuts)


def cross_validate_cva(data: Path, parts: tuple[str, ...] = ("oscd", "aerial"),
                       say: Say | None = None, smooth_rgb: int = 1) -> dict[str, Any]:
    """The record of ``landpatrol train cv-cva`` (``smooth_rgb``: RGB box width, fine cut grid)."""
    from models.cva import CVADetector

    say = say or (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    det = CVADetector(smooth_rgb=smooth_rgb)
    cuts = FINE_CUTS if smooth_rgb > 1 else CUTS
    record: dict[str, Any] = {"detector": {"name": det.name, "version": det.version, "smooth_rgb": smooth_rgb},
                              "postprocess": PostProcess().describe(S2_PIXEL_AREA)}
    if "oscd" in parts:
        record["oscd_loco"] = study(det, oscd_images(data / "oscd"), say, cuts)
    if "aerial" in parts:
        record["aerial_lopo"] = study(det, pair_images(data / "aerial"), say, cuts)
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record
