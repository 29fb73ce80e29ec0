"""v4 protocol (models/README.md): every detector with its fixed cut and each per-scene cut, on
the three studies and samples/, scored as the product outputs change. One JSON per
(detector, study) under ``--out``; nothing is fitted on any scored image here (the per-scene
cuts have no parameter; cva's fixed cut held out comes from ``landpatrol train cv-cva``).

    python -m lab.cuts_study --detectors cva,irmad --out lab/results/v4-cuts
    python -m lab.cuts_study --detectors gbm,ensemble --studies oscd-new3,nanjing,samples --out lab/results/v4-cuts
    python -m lab.cuts_study --detectors cva+gate,irmad+gate --cuts fixed,ki --studies nanjing,oscd --out lab/results/v4-gate
    python -m lab.cuts_study --detectors cva,irmad --cuts fixed,ki --studies oscd4,oscd4-new3 --out lab/results/v4.4-4band
    python -m lab.cuts_study --detectors gbm,ensemble --cuts fixed --studies oscd4-new3 --out lab/results/v4.4-4band
    python -m lab.cuts_study --detectors cva,irmad --cuts fixed,ki --studies oscd3,oscd3-new3 --out lab/results/v4.5-rgb
    python -m lab.cuts_study --detectors gbm,ensemble --cuts fixed --studies oscd3-new3 --out lab/results/v4.5-rgb
    python -m lab.cuts_study --detectors cnn --cnn-version v2 --cuts fixed,otsu --out lab/results/cnn-v2

``--cnn-version`` / ``--cnn-artifacts`` choose which trained `cnn` the name ``cnn`` loads;
``--gbm-version`` / ``--gbm-artifacts`` which trained `gbm` the name ``gbm`` loads.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from lab.gate import GATE, gated_detector
from models.base import Detector
from models.cuts import METHODS
from pipeline.evaluate.baselines import resolve_detector
from pipeline.evaluate.oscd import S2_PIXEL_AREA, evaluate_oscd
from pipeline.evaluate.pairs import evaluate_pairs
from pipeline.evaluate.roi import evaluate_roi

NEW3 = ["chongqing", "montpellier", "valencia"]
NANJING = "landsat/Nanjing"
STUDIES = ("oscd", "oscd-new3", "oscd4", "oscd4-new3", "oscd3", "oscd3-new3", "aerial", "nanjing", "samples")
FOUR_BANDS = ("blue", "green", "red", "nir")
"""The roles of the ``oscd4`` studies (v4.4): Sentinel-2's four 10 m bands, a 4-band pair."""
RGB_BANDS = ("red", "green", "blue")
"""The roles of the ``oscd3`` studies (v4.5): Sentinel-2's true-colour bands, an RGB pair at 10 m."""
STUDY_ROLES: dict[str, tuple[str, ...]] = {"oscd4": FOUR_BANDS, "oscd3": RGB_BANDS}


def _detector(name: str, pixel_size_m: float | None) -> Detector:
    """A registry name, ``naive``, or a gated name (``cva+gate[:CUT]``, :mod:`lab.gate`)."""
    if GATE in name:
        return gated_detector(name)
    return resolve_detector(name, pixel_size_m)


def use_gbm(version: str | None, artifacts: Path | None) -> None:
    """Make the registry's ``gbm`` and ``ensemble`` load this gbm version from this folder (v4.5:
records made before it re-run with ``--gbm-version v3 --gbm-artifacts lab/artifacts``)."""
    import models.gbm
    import models.registry

    def gbm() -> models.gbm.GBMDetector:
        return models.gbm.GBMDetector(version=version or models.gbm.DEFAULT_VERSION,
                                      artifacts=artifacts or models.gbm.ARTIFACTS)

    def ensemble() -> Detector:
        from models.ensemble import EnsembleDetector

        return EnsembleDetector(gbm=gbm())

    models.registry._FACTORIES["gbm"] = gbm
    models.registry._FACTORIES["ensemble"] = ensemble  # with that gbm and its version's constants


def quiet(_message: str) -> None:
    """No progress lines."""


def run_study(data: Path, study: str, name: str) -> dict[str, Any]:
    if study.startswith("oscd"):
        det = _detector(name, S2_PIXEL_AREA ** 0.5)
        return evaluate_oscd(data / "oscd", det, NEW3 if study.endswith("-new3") else None, progress=quiet,
                             roles=STUDY_ROLES.get(study.removesuffix("-new3")))
    if study == "nanjing":
        root = data / NANJING
        det = _detector(name, 30.0)
        return evaluate_roi(root / "LT51200382000124BJC00_Nanjing", root / "LT51200382002193BJC00_Nanjing",
                            root / "change.bmp", root / "unchanged.bmp", det, progress=quiet)
    return evaluate_pairs(data / study, _detector(name, None), progress=quiet)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--detectors", default="cva,irmad")
    ap.add_argument("--cuts", default=",".join(("fixed", *METHODS)))
    ap.add_argument("--studies", default="oscd,aerial,nanjing,samples")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cnn-version", default=None, help="the cnn version `cnn` loads (default: the shipped one)")
    ap.add_argument("--cnn-artifacts", type=Path, default=None, help="where that version's files are")
    ap.add_argument("--gbm-version", default=None, help="the gbm version `gbm` loads (default: the shipped one)")
    ap.add_argument("--gbm-artifacts", type=Path, default=None, help="where that version's files are")
    args = ap.parse_args(argv)
    if args.gbm_version or args.gbm_artifacts:
        use_gbm(args.gbm_version, args.gbm_artifacts)
    if args.cnn_version or args.cnn_artifacts:
        import models.cnn

        models.cnn.DEFAULT_VERSION = args.cnn_version or models.cnn.DEFAULT_VERSION
        models.cnn.ARTIFACTS = args.cnn_artifacts or models.cnn.ARTIFACTS
    args.out.mkdir(parents=True, exist_ok=True)
    for study in args.studies.split(","):
        for det in args.detectors.split(","):
            for cut in args.cuts.split(","):
                name = det if cut == "fixed" else f"{det}:{cut}"
                path = args.out / f"{study}--{name.replace(':', '-')}.json"
                if path.exists():
                    continue
                t0 = time.perf_counter()
                rec = run_study(args.data, study, name)
                path.write_text(json.dumps(rec, indent=1) + "\n")
                head = rec.get("pooled", {}).get("f1", rec.get("detection_rate"))
                print(f"{study} {name}: {head} ({time.perf_counter() - t0:.0f}s)", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
