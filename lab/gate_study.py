"""v4.1 candidates (models/README.md): the change-type gate, scored by the v4 protocol.

Direct runs (no parameter is fitted: the gate's constants are priors) go through
:mod:`lab.cuts_study`; this driver adds the paired leave-one-city-out number of ``cva+gate``:
each OSCD city scored at the cva cut its fold chose without it (``cv-cva-9cities.json``), so
``cva+gate`` and ``cva fixed`` are compared at the same held-out operating points.

    python -m lab.cuts_study --detectors cva+gate,irmad+gate --cuts fixed,ki --studies oscd,nanjing,aerial --out lab/results/v4-gate
    python -m lab.gate_study --out lab/results/v4-gate
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from models.cuts import from_z
from models.cva import M0
from pipeline.evaluate.baselines import resolve_detector
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.objects import ObjectCounts, pooled_objects
from pipeline.evaluate.oscd import S2_PIXEL_AREA, evaluate_oscd


def _confusion(rec: dict[str, Any]) -> Confusion:
    return Confusion(**{k: int(rec[k]) for k in ("tp", "fp", "fn", "tn")})


def _objects(rec: dict[str, Any]) -> ObjectCounts:
    return ObjectCounts(**{k: int(rec[k]) for k in ("patches", "patches_on_change", "objects", "objects_found")})


def paired_loco(data: Path, cv_record: Path, direct: Path, name: str = "cva+gate") -> dict[str, Any]:
    """``name``'s OSCD record with every city at its fold's cva cut (the direct record is at ``M0``)."""
    folds = json.loads(cv_record.read_text())["oscd_loco"]["folds"]
    rec = json.loads(direct.read_text())
    cities: dict[str, Any] = {}
    det = resolve_detector(name, S2_PIXEL_AREA ** 0.5)
    for city, fold in folds.items():
        cut = float(fold["cut"])
        if abs(cut - M0) < 1e-9:
            cities[city] = dict(rec["cities"][city], fold_cut=cut)
            continue
        one = evaluate_oscd(data / "oscd", det, [city], progress=lambda _m: None, threshold=from_z(cut / M0))
        cities[city] = dict(one["cities"][city], fold_cut=cut)
        print(f"{city}: cut {cut} f1 {cities[city]['f1']}", file=sys.stderr, flush=True)
    return {
        "pooled": pooled(_confusion(c) for c in cities.values()).to_dict(),
        "pooled_objects": pooled_objects(_objects(c["objects"]) for c in cities.values()).to_dict(),
        "cities": cities,
        "detector": rec["detector"],
        "protocol": f"each city at the cva cut its leave-one-city-out fold chose ({cv_record.name})",
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--cv", type=Path, default=Path("lab/results/v4-cuts/cv-cva-9cities.json"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    rec = paired_loco(args.data, args.cv, args.out / "oscd--cva+gate.json")
    (args.out / "loco-cva+gate.json").write_text(json.dumps(rec, indent=1) + "\n")
    print(f"cva+gate LOCO pooled f1 {rec['pooled']['f1']}", file=sys.stderr)


if __name__ == "__main__":
    main()
