"""Throughput of each detector in megapixels per second on one core.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_detectors.py [--size 1024] [--json OUT]``.
A ``size`` x ``size`` window (plus each detector's halo) of synthetic reflectance with six bands
is detected ``--repeat`` times after one warm-up; ``fit_scene`` runs once on a 4x-decimated
sample and is timed separately (it runs once per scene, not per window). RGB-only input is
timed too, for the detectors whose model depends on the band set.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from models.base import Detector  # noqa: E402

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")


def stacks(size: int, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    before = {r: (0.05 + 0.1 * i / 6 + 0.5 * ndimage.gaussian_filter(rng.normal(0, 0.1, (size, size)), 3))
              .astype(np.float32) for i, r in enumerate(ROLES)}
    after = {r: v * np.float32(0.9) + np.float32(0.01) for r, v in before.items()}
    for v in after.values():
        v[size // 4: size // 3, size // 4: size // 3] += 0.2
    return before, after


def detectors() -> dict[str, Detector]:
    from pipeline.evaluate.baselines import NaiveCVADetector

    out: dict[str, Detector] = {"naive": NaiveCVADetector()}
    try:
        from models.cva import CVADetector

        out["cva"] = CVADetector()
    except ImportError:
        pass
    from models.irmad import IRMADDetector

    out["irmad"] = IRMADDetector()
    import os

    from models.compiled import BACKEND_ENV
    from models.gbm import GBMDetector

    out["gbm"] = GBMDetector(num_threads=1)  # compiled trees (models/compiled.py) where available
    os.environ[BACKEND_ENV] = "lightgbm"
    try:
        out["gbm (LightGBM predict)"] = GBMDetector(num_threads=1)  # the same trees, LightGBM's own predict
    finally:
        del os.environ[BACKEND_ENV]
    return out


def bench(det: Detector, size: int, repeat: int, roles: tuple[str, ...]) -> dict[str, Any]:
    n = size + 2 * det.halo
    before, after = stacks(n)
    before = {r: before[r] for r in roles}
    after = {r: after[r] for r in roles}
    valid = np.ones((n, n), bool)
    t = time.perf_counter()
    scene = det.fit_scene({r: v[::4, ::4] for r, v in before.items()},
                          {r: v[::4, ::4] for r, v in after.items()}, valid[::4, ::4])
    fit_s = time.perf_counter() - t
    det.detect(before, after, valid, scene)  # warm-up
    t = time.perf_counter()
    for _ in range(repeat):
        det.detect(before, after, valid, scene)
    per = (time.perf_counter() - t) / repeat
    return {"window": size, "halo": det.halo, "fit_scene_s": round(fit_s, 3), "detect_s": round(per, 3),
            "mpx_per_s": round(size * size / per / 1e6, 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    results: dict[str, Any] = {}
    for name, det in detectors().items():
        results[name] = bench(det, args.size, args.repeat, ROLES)
        if name == "gbm":
            results["gbm (rgb only)"] = bench(det, args.size, args.repeat, ("red", "green", "blue"))
    ref = results["naive"]["mpx_per_s"]
    for name, r in results.items():
        r["speed_vs_naive"] = round(r["mpx_per_s"] / ref, 4)  # ratio against the reference of the same run
        print(f"{name:16s} {r['mpx_per_s']:8.3f} Mpx/s  x{r['speed_vs_naive']:.3f} of naive  (detect {r['detect_s']} s per {r['window']}^2 window, "
              f"fit_scene {r['fit_scene_s']} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
