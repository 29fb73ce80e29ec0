"""v4.8 rule 1 and 3a (models/README.md; rejected): gbm's compiled trees in float32 against float64.

On every labelled OSCD city (``full`` and ``rgb``) and every aerial pair (``rgb``), whole
images, with the shipped gbm and the product's features: the largest probability difference,
how many pixels land on the other side of the model's cut (the product's score: probability
box-smoothed, then rescaled so the cut is 0.5), and the trees' time alone, float64 and float32
alternating per image (rows of 65,536, as the product predicts them; min of 5 each).

    python -m lab.fp32_check --out lab/results/v4.8-fp32/check.json
"""
from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from lab.filters_check import check_args, images
from models.base import rescale
from models.filters import box
from models.gbm import ARTIFACTS, DEFAULT_VERSION, PREDICT_ROWS, GBMDetector, fit_scene_params, scene_features

REPEAT = 5


def forests(det: GBMDetector, band_set: str) -> tuple[Any, Any, float]:
    """The shipped model of ``band_set`` compiled by lleaves in float64 (as the product runs it,
    :mod:`models.compiled`) and in float32 (the candidate), and its cut."""
    import lleaves

    forest, cut = det._boosters[band_set]
    out = []
    for fp64 in (True, False):
        model = lleaves.Model(model_file=str(forest.model_file))
        model.compile(use_fp64=fp64)
        out.append(model)
    return out[0], out[1], cut


def _rows(model: Any, x: np.ndarray) -> np.ndarray:
    """The product's call for float64 (a float64 copy, then the trees); float32 reads ``x``."""
    data = np.ascontiguousarray(x, dtype=np.float64 if model.use_fp64 else np.float32)
    return np.asarray(model.predict(data, n_jobs=1), np.float64)


def predict(model: Any, rows: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([_rows(model, x) for x in rows])


def timed(model: Any, rows: list[np.ndarray]) -> float:
    best = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        for x in rows:
            _rows(model, x)
        best = min(best, time.perf_counter() - t0)
    return float(best)


def main(argv: list[str] | None = None) -> None:
    args = check_args(__doc__, argv)
    det = GBMDetector(version=DEFAULT_VERSION, artifacts=ARTIFACTS)
    per: dict[str, Any] = {}
    totals = {"pixels": 0, "flipped": 0, "seconds_fp64": 0.0, "seconds_fp32": 0.0}
    worst = 0.0
    for name, b, a, sets in images(args.data):
        for band_set, _wide in sets:
            f64, f32, cut = forests(det, band_set)
            valid = np.ones(next(iter(b.values())).shape, bool)
            scene = fit_scene_params(b, a, valid)
            feats, _, _ = scene_features(b, a, scene, band_set, det.wide)
            flat = feats.reshape(len(feats), -1).T            # (pixels, features) float32
            rows = [np.ascontiguousarray(flat[i:i + PREDICT_ROWS]) for i in range(0, len(flat), PREDICT_ROWS)]
            p64, p32 = predict(f64, rows), predict(f32, rows)
            diff = float(np.abs(p64 - p32).max())
            s64 = rescale(box(p64.reshape(valid.shape).astype(np.float32), det.smooth_px), cut) > 0.5
            s32 = rescale(box(p32.reshape(valid.shape).astype(np.float32), det.smooth_px), cut) > 0.5
            flipped = int(np.sum(s64 != s32))
            t64, t32 = timed(f64, rows), timed(f32, rows)
            per[f"{name}/{band_set}"] = {"pixels": int(valid.size), "max_abs_diff": diff, "flipped": flipped,
                                         "changed_fp64": int(s64.sum()), "seconds_fp64": round(t64, 4),
                                         "seconds_fp32": round(t32, 4)}
            worst = max(worst, diff)
            totals["pixels"] += int(valid.size)
            totals["flipped"] += flipped
            totals["seconds_fp64"] += t64
            totals["seconds_fp32"] += t32
            print(name, band_set, per[f"{name}/{band_set}"], flush=True)
    share = totals["flipped"] / max(totals["pixels"], 1)
    saving = 1.0 - totals["seconds_fp32"] / totals["seconds_fp64"]
    rec = {"rule": "v4.8: rule 1 (max |p32 - p64| <= 1e-6, <= 0.001 % of pixels across the cut); "
                   "rule 3a (float32 trees >= 20 % less time, summed)",
           "max_abs_diff": worst, "flipped_share": share, "time_saving": round(saving, 4),
           "rule1_passes": worst <= 1e-6 and share <= 1e-5, "rule3a_passes": saving >= 0.20,
           "totals": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in totals.items()}, "images": per}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rec, indent=1) + "\n")
    print(json.dumps({k: rec[k] for k in ("max_abs_diff", "flipped_share", "time_saving", "rule1_passes",
                                          "rule3a_passes")}))


if __name__ == "__main__":
    main()
