"""Un-georeferenced image pairs with full reference masks (SZTAKI AirChange, LEVIR-CD, ...).

Two layouts are found anywhere under ROOT: a folder holding ``A/``, ``B/`` and ``label/`` with
same-named files (pair name ``<folder>/<stem>``), and a folder holding ``im1``, ``im2`` and
``gt`` images in any extension case (pair name = the folder). Reference masks count as change
above half their range (SZTAKI's ``gt.bmp`` has a few stray values between 0 and 255).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.base import Detector
from pipeline.errors import InputError
from pipeline.evaluate.images import PICTURE_SUFFIXES, read_mask, read_stack
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.objects import ObjectCounts, object_counts, pooled_objects
from pipeline.evaluate.oscd import describe
from pipeline.evaluate.runner import PostProcess, run_pair

IMAGE_SUFFIXES = PICTURE_SUFFIXES | {".tif", ".tiff"}


@dataclass(frozen=True)
class Pair:
    name: str
    before: Path
    after: Path
    label: Path


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem.lower(): p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}


def _subdirs(folder: Path) -> dict[str, Path]:
    return {p.name.lower(): p for p in folder.iterdir() if p.is_dir()}


def find_pairs(root: Path, warn: Callable[[str], None] | None = None) -> list[Pair]:
    """Every labelled pair under ``root`` in either layout, sorted by name."""
    if not root.is_dir():
        raise InputError(root, "not a folder")
    say = warn or (lambda msg: print(msg, file=sys.stderr))
    pairs: list[Pair] = []
    for folder in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
        rel = folder.relative_to(root).as_posix()
        subs = _subdirs(folder)
        if {"a", "b", "label"} <= subs.keys():
            a, b, lab = _images(subs["a"]), _images(subs["b"]), _images(subs["label"])
            for stem, path in a.items():
                if stem in b and stem in lab:
                    name = f"{rel}/{path.stem}" if rel != "." else path.stem
                    pairs.append(Pair(name, path, b[stem], lab[stem]))
                else:
                    say(f"pairs: skipping {path}: no same-named file in B/ and label/")
        files = _images(folder)
        if {"im1", "im2", "gt"} <= files.keys():
            pairs.append(Pair(rel if rel != "." else folder.name, files["im1"], files["im2"], files["gt"]))
    if not pairs:
        raise InputError(root, "no image pairs found (A/ B/ label/ folders, or im1 im2 gt files)")
    return sorted(pairs, key=lambda p: p.name)


def evaluate_pairs(
    root: Path,
    detector: Detector,
    progress: Callable[[str], None] | None = None,
    threshold: float | None = None,
    only: set[str] | None = None,
    post: PostProcess | None = None,
) -> dict[str, Any]:
    """The JSON record of ``landpatrol evaluate pairs``; ``only`` restricts to named pairs.

    The pictures carry no pixel size, so the minimum mapping unit is ``post.min_pixels``."""
    post = post or PostProcess()
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    per_pair: dict[str, Confusion] = {}
    objects: dict[str, ObjectCounts] = {}
    cuts: dict[str, Any] = {}
    for pair in find_pairs(root, say):
        if only is not None and pair.name not in only:
            continue
        b, a = read_stack(pair.before), read_stack(pair.after)
        truth = read_mask(pair.label)
        shape = next(iter(b.values())).shape
        for path, arr in ((pair.after, next(iter(a.values()))), (pair.label, truth)):
            if arr.shape != shape:
                raise InputError(path, f"is {arr.shape}, {pair.before.name} is {shape}")
        res = run_pair(detector, b, a, str(pair.before), threshold, post=post)
        per_pair[pair.name] = Confusion.from_masks(res.mask, truth)
        objects[pair.name] = object_counts(res.mask, truth, post.mmu_pixels(None))
        if "cut" in res.scene:
            cuts[pair.name] = res.scene["cut"]
        say(f"pairs {pair.name}: f1={per_pair[pair.name].f1:.3f} "
            f"patch precision={objects[pair.name].patch_precision:.3f}")
    return {
        "pooled": pooled(per_pair.values()).to_dict(),
        "pooled_objects": pooled_objects(objects.values()).to_dict(),
        "pairs": {k: dict(v.to_dict(), objects=objects[k].to_dict(), **({"cut": cuts[k]} if k in cuts else {}))
                  for k, v in per_pair.items()},
        "detector": describe(detector, threshold),
        "postprocess": post.describe(),
        "seconds": round(time.perf_counter() - t0, 2),
    }
