"""Could a cheap change gate skip gbm's features and trees on fine pairs? (Measured 2026-12-04: no.)

    python -m lab.gate_coverage --out lab/results/gate-coverage/coverage.json

The idea (a cascade, as in production detectors): compute a cheap statistic first, the RGB
change magnitude in scene-spread units smoothed by a Gaussian of sigma 1 (what gbm's ``cva_g1``
feature is), and run gbm's features and trees only where that statistic exceeds a level ``t``
within ``--margin`` pixels. For the patches to stay what they are, the gate must keep every
pixel the shipped gbm v6 flags. On every aerial pair and every ``samples/`` pair this records,
per level, how many flagged pixels the gate would drop and what share of the image it would
still pass. The synthetic bench pair (a flat field, 0.2 % planted change) would pass almost
nothing; real pictures do not.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from models import filters
from models.base import BandStack, ChangeMap
from models.features import RGB
from models.gbm import GBMDetector, fill, prepare_after
from pipeline.evaluate.images import read_stack
from pipeline.evaluate.pairs import find_pairs
from pipeline.evaluate.runner import run_pair

LEVELS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)


def gate_statistic(b: Mapping[str, np.ndarray], a: Mapping[str, np.ndarray], scale: Mapping[str, float]) -> np.ndarray:
    """RGB change magnitude in units of the scene's spreads, Gaussian sigma 1 (gbm's ``cva_g1``)."""
    cva = np.sqrt(sum(((a[r] - b[r]) / np.float32(scale[r])) ** 2 for r in RGB))
    return filters.gaussian(np.asarray(cva, np.float32), 1.0, 3.0)


def coverage(stat: np.ndarray, flagged: np.ndarray, margin: int, levels: Sequence[float] = LEVELS) -> dict[str, Any]:
    """Per level ``t``: flagged pixels with no ``stat > t`` within ``margin`` px (the gate would
    drop them) and the share of pixels the gate passes."""
    near = ndi.maximum_filter(stat, size=2 * margin + 1)
    at_flag = near[flagged]
    return {
        "flagged": int(flagged.sum()),
        "dropped": {f"{t:g}": int((at_flag <= t).sum()) for t in levels},
        "passed": {f"{t:g}": round(float((near > t).mean()), 4) for t in levels},
    }


class _Recording(GBMDetector):
    """gbm v6 that keeps the gate statistic and its score of the last pair."""

    last: tuple[np.ndarray, np.ndarray] | None = None

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        out = super().detect(before, after, valid, scene)
        b = fill({r: np.asarray(before[r], np.float32) for r in scene["roles"]}, scene["mean"])
        a = fill(prepare_after(after, scene), scene["mean"])
        self.last = (gate_statistic(b, a, scene["scale"]), out.score)
        return out


def study(data: Path, margin: int) -> dict[str, Any]:
    det = _Recording()
    pairs: dict[str, Any] = {}
    for root in (data / "aerial", data / "samples"):
        for pair in find_pairs(root, lambda _m: None):
            run_pair(det, read_stack(pair.before), read_stack(pair.after), str(pair.before))
            assert det.last is not None
            stat, score = det.last
            pairs[f"{root.name}/{pair.name}"] = coverage(stat, score > det.threshold, margin)
    flagged = sum(p["flagged"] for p in pairs.values())
    summary = {}
    for t in LEVELS:
        key = f"{t:g}"
        summary[key] = {
            "dropped_share": round(sum(p["dropped"][key] for p in pairs.values()) / max(flagged, 1), 5),
            "passed_min": min(p["passed"][key] for p in pairs.values()),
            "passed_mean": round(float(np.mean([p["passed"][key] for p in pairs.values()])), 4),
            "pairs_dropping_none": sum(p["dropped"][key] == 0 for p in pairs.values()),
        }
    return {"margin_px": margin, "detector": f"gbm {det.version}", "summary": summary, "pairs": pairs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--margin", type=int, default=6, help="pixels around a flagged pixel the gate may look")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rec = study(args.data, args.margin)
    rec["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rec, indent=1) + "\n")
    print(json.dumps(rec["summary"]), file=sys.stderr)


if __name__ == "__main__":
    main()
