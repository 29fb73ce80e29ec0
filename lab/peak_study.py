"""v4.2 candidate (models/README.md): keep a patch only if its strongest pixel reaches a peak level.

For every image the detector runs once; the product's clean-up is applied to ``score > cut``,
patches are labelled, and each patch's ``score_max`` is compared with every peak level of
:data:`PEAKS` (read on the scale where the cut scores 0.5). Counts per image and level are kept,
then the level is chosen on training images only (:func:`choose_peak`) and scored held out:

* ``oscd``: leave-one-city-out over the 9 labelled cities;
* ``aerial``: leave-one-pair-out over the SZTAKI pairs;
* ``nanjing``: the level chosen on all 9 OSCD cities for the same detector, applied to Nanjing.

``cva`` with its fixed cut uses, in each fold, the magnitude cut that fold chooses by
:func:`lab.cvacv.leave_one_out` (``landpatrol train cv-cva``); per-scene cuts (``NAME:CUT``)
already score 0.5 at the scene's cut.

    python -m lab.peak_study --detectors cva,cva:ki,irmad:ki --out lab/results/v4.2-peak
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from lab.cuts_table import nanjing_score
from lab.cvacv import CUTS, Image, cut_to_threshold, leave_one_out, oscd_images, pair_images
from models.base import Detector
from pipeline.evaluate.baselines import resolve_detector
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.objects import ObjectCounts, object_counts, pooled_objects
from pipeline.evaluate.oscd import S2_PIXEL_AREA
from pipeline.evaluate.runner import PostProcess, run_pair
from pipeline.patches import label_patches

PEAKS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
"""Peak levels on the scale where the cut scores 0.5; 0.5 is no test (every patch passes)."""
F1_SLACK = 0.005
RECALL_SLACK = 0.05
TIE = 0.002
NANJING = "landsat/Nanjing"


@dataclass(frozen=True)
class Cell:
    """One image at one (cut, peak level): pixel confusion and object counts."""

    conf: Confusion
    obj: ObjectCounts


def patch_f1(obj: ObjectCounts) -> float:
    pp, rec = obj.patch_precision, obj.object_recall
    return 2 * pp * rec / (pp + rec) if pp + rec else 0.0


def peak_cells(score: np.ndarray, valid: np.ndarray, truth: np.ndarray, cut_t: float,
               peak_ts: Sequence[float], post: PostProcess, pixel_area: float | None,
               scored: np.ndarray | None = None) -> list[Cell]:
    """Counts for each peak threshold in ``peak_ts`` (on ``score``'s own scale) at cut ``cut_t``."""
    mask = post.apply((score > cut_t) & valid, pixel_area) & valid
    lab, n = label_patches(mask)
    peak = np.asarray(ndimage.maximum(score, lab, index=np.arange(1, n + 1)), float) if n else np.zeros(0)
    mmu = post.mmu_pixels(pixel_area)
    cells = []
    for t in peak_ts:
        keep = np.concatenate([[False], peak >= t])[lab]
        obj = object_counts(keep, truth, mmu) if scored is None else ObjectCounts()
        cells.append(Cell(Confusion.from_masks(keep, truth, scored), obj))
    return cells


def fixed_cva_peak_ts(cut: float, m0: float) -> list[float]:
    """Score thresholds of the peak levels for cva at magnitude cut ``cut``: ``p`` on the scale
    ``1 - 2^-(m/cut)^2`` is ``1 - (1 - p)^((cut/m0)^2)`` on the shipped ``1 - 2^-(m/m0)^2``."""
    return [float(1.0 - (1.0 - p) ** ((cut / m0) ** 2)) for p in PEAKS]


def image_table(detector: Detector, fixed_cva: bool, b: Mapping[str, np.ndarray], a: Mapping[str, np.ndarray],
                truth: np.ndarray, name: str, area: float | None,
                scored: np.ndarray | None = None) -> dict[float, list[Cell]]:
    """cut -> cells per peak level (``fixed_cva``: every cut of :data:`CUTS`; else the 0.5 cut)."""
    post = PostProcess()
    res = run_pair(detector, b, a, name, post=PostProcess.raw(), pixel_area=area)
    score = np.asarray(res.change.score, np.float64)
    if not fixed_cva:
        return {0.5: peak_cells(score, res.valid, truth, 0.5, PEAKS, post, area, scored)}
    m0 = float(res.scene["m0"])  # type: ignore[arg-type]
    return {c: peak_cells(score, res.valid, truth, cut_to_threshold(c, m0), fixed_cva_peak_ts(c, m0), post, area,
                          scored) for c in CUTS}


def choose_peak(cells: Sequence[Sequence[Cell]]) -> int:
    """The inner rule on training images: ``cells[image][level]`` -> index of the chosen level."""
    conf = [pooled(img[i].conf for img in cells) for i in range(len(PEAKS))]
    obj = [pooled_objects(img[i].obj for img in cells) for i in range(len(PEAKS))]
    ok = [i for i in range(len(PEAKS))
          if conf[i].f1 >= conf[0].f1 - F1_SLACK and obj[i].object_recall >= obj[0].object_recall - RECALL_SLACK]
    best = max(patch_f1(obj[i]) for i in ok)
    return min(i for i in ok if patch_f1(obj[i]) >= best - TIE)


def summary(cells: Sequence[Cell]) -> dict[str, Any]:
    c, o = pooled(x.conf for x in cells), pooled_objects(x.obj for x in cells)
    return {"pixel": c.to_dict(), "objects": o.to_dict(), "patch_f1": round(patch_f1(o), 4)}


def held_out(tables: Mapping[str, dict[float, list[Cell]]], fixed_cva: bool) -> dict[str, Any]:
    """Leave-one-image-out: per held-out image the fold's cut (cva fixed) and peak level."""
    names = list(tables)
    cut_of = {n: 0.5 for n in names}
    if fixed_cva:
        loo = leave_one_out({n: [tables[n][c][0].conf for c in CUTS] for n in names})
        cut_of = {n: float(loo["folds"][n]["cut"]) for n in names}
    folds, with_test, without = {}, [], []
    for h in names:
        c = cut_of[h]
        i = choose_peak([tables[n][c] for n in names if n != h])
        folds[h] = {"cut": c, "peak": PEAKS[i], "with": summary([tables[h][c][i]]),
                    "without": summary([tables[h][c][0]])}
        with_test.append(tables[h][c][i])
        without.append(tables[h][c][0])
    return {"with_test": summary(with_test), "without_test": summary(without), "folds": folds}


def insample(tables: Mapping[str, dict[float, list[Cell]]], cut: float) -> dict[str, Any]:
    """The inner rule on every image (the level a member would ship) and the table by level."""
    cells = [tables[n][cut] for n in tables]
    i = choose_peak(cells)
    return {"cut": cut, "chosen_peak": PEAKS[i],
            "by_peak": {str(p): summary([img[j] for img in cells]) for j, p in enumerate(PEAKS)}}


def quiet(_message: str) -> None:
    """No progress lines."""


def images_of(data: Path, study: str) -> Iterator[Image]:
    return oscd_images(data / "oscd") if study == "oscd" else pair_images(data / "aerial")


def study_record(data: Path, study: str, name: str) -> tuple[dict[str, Any], dict[str, dict[float, list[Cell]]]]:
    fixed_cva = name == "cva"
    det = resolve_detector(name, S2_PIXEL_AREA ** 0.5 if study == "oscd" else None)
    tables = {}
    for img, b, a, truth, area in images_of(data, study):
        tables[img] = image_table(det, fixed_cva, b, a, truth, img, area)
        print(f"{study} {name} {img}", file=sys.stderr, flush=True)
    shipped_cut = 2.5 if (fixed_cva and study == "oscd") else (1.25 if fixed_cva else 0.5)
    rec = {"study": study, "detector": name, "peaks": list(PEAKS), "held_out": held_out(tables, fixed_cva),
           "insample_at_shipped_cut": insample(tables, shipped_cut)}
    return rec, tables


def nanjing_record(data: Path, name: str, oscd_tables: Mapping[str, dict[float, list[Cell]]]) -> dict[str, Any]:
    """The level the inner rule picks on all 9 OSCD cities, applied to Nanjing."""
    fixed_cva = name == "cva"
    cut = 2.5 if fixed_cva else 0.5
    i = choose_peak([oscd_tables[n][cut] for n in oscd_tables])
    root = data / NANJING
    b = read_stack(root / "LT51200382000124BJC00_Nanjing")
    a = read_stack(root / "LT51200382002193BJC00_Nanjing")
    changed, unchanged = read_mask(root / "change.bmp"), read_mask(root / "unchanged.bmp")
    det = resolve_detector(name, 30.0)
    table = image_table(det, fixed_cva, b, a, changed, "nanjing", None, scored=changed | unchanged)
    cells = table[cut]

    def roi(c: Confusion) -> dict[str, float]:
        dr, fa = c.recall, c.false_alarm_rate
        return {"detection_rate": round(dr, 4), "false_alarm_rate": round(fa, 4),
                "score": round(nanjing_score(dr, fa), 4)}
    return {"study": "nanjing", "detector": name, "peak_from_oscd": PEAKS[i], "with": roi(cells[i].conf),
            "without": roi(cells[0].conf), "by_peak": {str(p): roi(x.conf) for p, x in zip(PEAKS, cells)}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--detectors", default="cva,cva:ki,irmad:ki")
    ap.add_argument("--studies", default="oscd,aerial,nanjing")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    studies = args.studies.split(",")
    for name in args.detectors.split(","):
        t0 = time.perf_counter()
        oscd_tables = None
        for study in studies:
            path = args.out / f"{study}--{name.replace(':', '-')}.json"
            if study == "nanjing":
                if oscd_tables is None:
                    _, oscd_tables = study_record(args.data, "oscd", name)
                rec = nanjing_record(args.data, name, oscd_tables)
            else:
                rec, tables = study_record(args.data, study, name)
                if study == "oscd":
                    oscd_tables = tables
            rec["seconds"] = round(time.perf_counter() - t0, 1)
            path.write_text(json.dumps(rec, indent=1) + "\n")
            print(f"{path.name} written ({rec['seconds']}s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
