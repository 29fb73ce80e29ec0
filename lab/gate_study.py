"""v4.1 candidates (models/README.md): the change-type gate, scored by the v4 protocol.

Direct runs (no parameter is fitted: the gate's constants are priors) go through
:mod:`lab.cuts_study`; this driver adds the paired leave-one-city-out number of ``cva+gate``:
each OSCD city scored at the cva cut its fold chose without it (``cv-cva-9cities.json``), so
``cva+gate`` and ``cva fixed`` are compared at the same held-out operating points.

    python -m lab.cuts_study --detectors cva+gate,irmad+gate --cuts fixed,ki --studies oscd,nanjing,aerial --out lab/results/v4-gate
    python -m lab.gate_study --out lab/results/v4-gate            # paired LOCO of cva+gate
    python -m lab.gate_study reasons --out lab/results/v4-gate    # what each gate reason drops
    python -m lab.gate_study ablation --reasons vegetation,water --out lab/results/v4-gate  # post-hoc
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lab.cuts_study import NANJING
from lab.gate import GateDetector, gate_reasons, gated_detector
from models.cuts import from_z
from models.cva import M0, CVADetector, valid_zero_filled
from models.registry import get_detector
from pipeline.evaluate.images import read_mask, read_stack
from pipeline.evaluate.metrics import Confusion, pooled
from pipeline.evaluate.objects import ObjectCounts, pooled_objects
from pipeline.evaluate.oscd import evaluate_oscd, labelled_cities, read_city
from pipeline.evaluate.roi import evaluate_roi
from pipeline.evaluate.runner import pair_valid


def _confusion(rec: dict[str, Any]) -> Confusion:
    return Confusion(**{k: int(rec[k]) for k in ("tp", "fp", "fn", "tn")})


def _objects(rec: dict[str, Any]) -> ObjectCounts:
    return ObjectCounts(**{k: int(rec[k]) for k in ("patches", "patches_on_change", "objects", "objects_found")})


def paired_loco(data: Path, cv_record: Path, direct: Path, name: str = "cva+gate") -> dict[str, Any]:
    """``name``'s OSCD record with every city at its fold's cva cut (the direct record is at ``M0``)."""
    folds = json.loads(cv_record.read_text())["oscd_loco"]["folds"]
    rec = json.loads(direct.read_text())
    cities: dict[str, Any] = {}
    det = gated_detector(name)
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


def reason_shares(data: Path) -> dict[str, Any]:
    """Per OSCD city and Nanjing: of cva's flagged true-change / false-alarm pixels (before the
    clean-up), the share each gate reason would drop (a diagnostic of why the gate fails)."""
    out: dict[str, Any] = {}
    det = GateDetector(CVADetector())
    pairs: list[tuple[str, dict[str, Any], dict[str, Any], Any, Any]] = []
    for city in labelled_cities(data / "oscd"):
        c = read_city(data / "oscd", city)
        pairs.append((city, c.before, c.after, c.label, ~c.label))
    nj = data / NANJING
    b, a = read_stack(nj / "LT51200382000124BJC00_Nanjing"), read_stack(nj / "LT51200382002193BJC00_Nanjing")
    pairs.append(("nanjing", b, a, read_mask(nj / "change.bmp"), read_mask(nj / "unchanged.bmp")))
    for name, before, after, change, unchanged in pairs:
        valid = pair_valid(before, after)
        scene = det.fit_scene(before, after, valid)
        ok, bb, aa = valid_zero_filled(before, after, valid, scene["gate"]["roles"])
        reasons = gate_reasons(bb, aa, scene["gate"])
        flagged = (det.inner.detect(before, after, valid, scene).score > 0.5) & ok
        rec: dict[str, Any] = {}
        for part, truth in (("change", change), ("false_alarm", unchanged)):
            hit = flagged & truth
            n = max(int(hit.sum()), 1)
            rec[part] = {"pixels": int(hit.sum()), **{k: round(float((v & hit).sum()) / n, 4) for k, v in reasons.items()}}
        out[name] = rec
        print(name, json.dumps(rec), file=sys.stderr, flush=True)
    return out


def ablation(data: Path, out: Path, reasons: tuple[str, ...]) -> None:
    """Post-hoc (after the v4.1 rule's runs; not a candidate): the gate with only ``reasons``."""
    tag = "+".join(reasons)
    for study, base, cut in (("oscd", "cva", None), ("oscd", "cva", "ki"), ("nanjing", "cva", None),
                             ("nanjing", "irmad", "ki")):
        path = out / f"ablation-{tag}--{study}--{base}{'-' + cut if cut else ''}.json"
        if path.exists():
            continue
        det = GateDetector(get_detector(base), cut, reasons)
        if study == "oscd":
            rec = evaluate_oscd(data / "oscd", det, progress=lambda _m: None)
        else:
            nj = data / NANJING
            rec = evaluate_roi(nj / "LT51200382000124BJC00_Nanjing", nj / "LT51200382002193BJC00_Nanjing",
                               nj / "change.bmp", nj / "unchanged.bmp", det, progress=lambda _m: None)
        rec["gate_reasons"] = list(reasons)
        path.write_text(json.dumps(rec, indent=1) + "\n")
        print(path.name, rec.get("pooled", {}).get("f1", rec.get("detection_rate")), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("what", choices=("loco", "reasons", "ablation"), nargs="?", default="loco")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--cv", type=Path, default=Path("lab/results/v4-cuts/cv-cva-9cities.json"))
    ap.add_argument("--reasons", default="vegetation,water", help="ablation: the gate reasons kept")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.what == "reasons":
        (args.out / "reasons.json").write_text(json.dumps(reason_shares(args.data), indent=1) + "\n")
    elif args.what == "ablation":
        ablation(args.data, args.out, tuple(args.reasons.split(",")))
    else:
        rec = paired_loco(args.data, args.cv, args.out / "oscd--cva+gate.json")
        (args.out / "loco-cva+gate.json").write_text(json.dumps(rec, indent=1) + "\n")
        print(f"cva+gate LOCO pooled f1 {rec['pooled']['f1']}", file=sys.stderr)


if __name__ == "__main__":
    main()
