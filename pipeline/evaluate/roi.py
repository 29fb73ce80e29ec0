"""Partially labelled pairs: detection rate on 'change' pixels, false alarms on 'unchanged'.

The Nanjing Landsat pair is the model: two masks (0/255) mark labelled sample regions, every
other pixel is unlabelled and not scored.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from models.base import Detector
from pipeline.errors import InputError
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.oscd import describe
from pipeline.evaluate.runner import PostProcess, run_pair


def evaluate_roi(
    before: Path,
    after: Path,
    change_mask: Path,
    unchanged_mask: Path,
    detector: Detector,
    progress: Callable[[str], None] | None = None,
    threshold: float | None = None,
    post: PostProcess | None = None,
) -> dict[str, Any]:
    """The JSON record of ``landpatrol evaluate roi`` (``post``: see :class:`PostProcess`)."""
    post = post or PostProcess()
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    t0 = time.perf_counter()
    b, a = read_stack(before), read_stack(after)
    shape = next(iter(b.values())).shape
    if next(iter(a.values())).shape != shape:
        raise InputError(after, f"image is {next(iter(a.values())).shape}, before image is {shape}")
    changed, unchanged = read_mask(change_mask), read_mask(unchanged_mask)
    for path, m in ((change_mask, changed), (unchanged_mask, unchanged)):
        if m.shape != shape:
            raise InputError(path, f"mask is {m.shape}, images are {shape}")
    if np.any(changed & unchanged):
        raise InputError(unchanged_mask, "overlaps the change mask")
    res = run_pair(detector, b, a, str(before), threshold, post=post)
    truth = changed
    scored = changed | unchanged
    conf = Confusion.from_masks(res.mask, truth, scored)
    say(f"roi: detection={conf.recall:.3f} false_alarm={conf.false_alarm_rate:.3f}")
    return {
        "detection_rate": round(conf.recall, 4),
        "false_alarm_rate": round(conf.false_alarm_rate, 4),
        "change_pixels": int(changed.sum()),
        "unchanged_pixels": int(unchanged.sum()),
        "confusion": conf.to_dict(),
        "detector": describe(detector, threshold),
        "postprocess": post.describe(),
        **({"cut": res.scene["cut"]} if "cut" in res.scene else {}),
        "seconds": round(time.perf_counter() - t0, 2),
    }
