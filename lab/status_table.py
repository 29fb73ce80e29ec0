"""Where each detector stands against the detector targets: the model card's status table,
assembled from the JSON records under ``lab/results/`` (nothing is scored here).

    python -m lab.status_table                                  # the markdown table
    python -m lab.status_table --json lab/results/v4.11-status/table.json

One row per shipped detector and cut (cva 1.1, irmad, gbm v6, the cva+gbm ensemble with gbm
v6's constants, cnn v1) and one for the default, ``auto``, whose members per study are those of
``models.registry.AUTO_MEMBERS``. Held out means: leave-one-city-out over the 9 OSCD cities,
leave-one-pair-out on the 6 aerial pairs (every cut and constant chosen on the training folds),
or a record of a detector with nothing fitted on that study (per-scene cuts, untrained
detectors; Nanjing and ``samples/`` were never trained or tuned on). A cell with no held-out
record stays empty, with the reason in :data:`GAPS`.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
STUDIES = ("oscd", "aerial", "nanjing", "samples")
TARGETS = {"oscd": 0.50, "aerial": 0.50, "nanjing_dr": 0.85, "nanjing_fa": 0.03, "oscd_pp": 0.5}
CUTS = ("otsu", "ki", "gmm", "spread")


@dataclass(frozen=True)
class Source:
    """One record: ``path`` under :data:`RESULTS`; ``cv`` = the cross-validation key
    (``oscd_loco``/``aerial_lopo``) and ``member`` = its pooled entry, else a plain record."""

    path: str
    cv: str | None = None
    member: str | None = None


def _cut_rows(det: str, folder: str, samples_folder: str) -> dict[str, dict[str, Source]]:
    rows = {}
    for cut in CUTS:
        stem = f"{det}-{cut}"
        rows[f"{det}:{cut}"] = {
            "oscd": Source(f"{folder}/oscd--{stem}.json"), "aerial": Source(f"{folder}/aerial--{stem}.json"),
            "nanjing": Source(f"{folder}/nanjing--{stem}.json"),
            "samples": Source(f"{samples_folder}/samples--{stem}.json"),
        }
    return rows


V4, V6, NOW = "v4-cuts", "v4.5-lite", "v4.11-status"
ROWS: dict[str, dict[str, Source]] = {
    "cva 1.1 (fixed cut)": {
        "oscd": Source(f"{V4}/cv-cva-9cities.json", "oscd_loco", None),
        "oscd_objects": Source(f"{V4}/oscd--cva.json"),
        "aerial": Source(f"{V4}/cv-cva-9cities.json", "aerial_lopo", None),
        "nanjing": Source(f"{V4}/nanjing--cva.json"), "samples": Source(f"{NOW}/samples--cva.json"),
    },
    **_cut_rows("cva", V4, NOW),
    "irmad (1 % test)": {
        "oscd": Source(f"{V4}/oscd--irmad.json"), "aerial": Source(f"{V4}/aerial--irmad.json"),
        "nanjing": Source(f"{V4}/nanjing--irmad.json"), "samples": Source(f"{NOW}/samples--irmad.json"),
    },
    **_cut_rows("irmad", V4, NOW),
    "gbm v6 (fixed cut)": {
        "oscd": Source(f"{V6}/cv-ensemble-oscd.json", "oscd_loco", "gbm"),
        "aerial": Source(f"{V6}/cv-ensemble-aerial.json", "aerial_lopo", "gbm"),
        "nanjing": Source(f"{V6}/nanjing--gbm-v6.json"), "samples": Source(f"{V6}/samples--gbm-v6.json"),
    },
    **{f"gbm v6:{c}": {"nanjing": Source(f"{NOW}/nanjing--gbm-{c}.json"),
                       "samples": Source(f"{NOW}/samples--gbm-{c}.json")} for c in CUTS},
    "ensemble (gbm v6, gate)": {
        "oscd": Source(f"{V6}/cv-ensemble-oscd.json", "oscd_loco", "gate"),
        "aerial": Source(f"{V6}/cv-ensemble-aerial.json", "aerial_lopo", "gate"),
        "nanjing": Source(f"{NOW}/nanjing--ensemble.json"), "samples": Source(f"{NOW}/samples--ensemble.json"),
    },
    "cnn v1 (fixed cut)": {
        "nanjing": Source(f"{V4}/nanjing--cnn.json"), "samples": Source(f"{V4}/samples--cnn.json"),
    },
    "**auto** (the default)": {
        "oscd": Source(f"{V4}/cv-cva-9cities.json", "oscd_loco", None),
        "oscd_objects": Source(f"{V4}/oscd--cva.json"),
        "aerial": Source(f"{V6}/cv-ensemble-aerial.json", "aerial_lopo", "gbm"),
        "nanjing": Source(f"{NOW}/nanjing--auto.json"), "samples": Source(f"{NOW}/samples--auto.json"),
    },
}
AUTO_MEMBERS_BY_STUDY = {"oscd": "cva (Sentinel-2 regime)", "aerial": "gbm v6 (fine RGB)",
                         "nanjing": "irmad:ki (Landsat, 30 m)", "samples": "gbm v6 (pictures)"}
GAPS = {
    "oscd, trained detectors' objects": "the leave-one-city-out drivers record pixel counts only",
    "gbm v6 per-scene cuts, oscd/aerial": "not re-run for v6: on v5's folds every per-scene cut hurt "
                                          "(lab/results/v4.5-gbm5/cv-ensemble-oscd-cuts.json, v4.3)",
    "cnn v1, oscd/aerial": "trained on 6 cities and the aerial pairs; no leave-one-out folds (v4)",
}


def _pooled(rec: Mapping[str, Any], src: Source) -> Mapping[str, Any]:
    if src.cv is None:
        return rec["pooled"]
    block = rec[src.cv]["pooled"]
    return block if src.member is None else block[src.member]


def cell(study: str, src: Source, objects: Source | None, root: Path) -> dict[str, Any] | None:
    """One study's numbers from its record, or None where the record is missing."""
    path = root / src.path
    if not path.exists():
        return None
    rec = json.loads(path.read_text())
    if study == "nanjing":
        return {"dr": rec["detection_rate"], "fa": rec["false_alarm_rate"], "source": src.path}
    p = _pooled(rec, src)
    out: dict[str, Any] = {"f1": p["f1"], "precision": p["precision"], "recall": p["recall"], "source": src.path}
    obj_rec = rec if objects is None else (json.loads((root / objects.path).read_text())
                                           if (root / objects.path).exists() else {})
    if "pooled_objects" in obj_rec:
        out["patch_precision"] = obj_rec["pooled_objects"]["patch_precision"]
        out["object_recall"] = obj_rec["pooled_objects"]["object_recall"]
    return out


def table(root: Path = RESULTS) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for name, sources in ROWS.items():
        rows[name] = {s: cell(s, sources[s], sources.get(f"{s}_objects"), root) for s in STUDIES if s in sources}
    return rows


def targets(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The default's held-out numbers against each target, and the best of any row."""
    auto = rows["**auto** (the default)"]

    def best(study: str, key: str) -> tuple[float, str]:
        vals = [(r[study][key], n) for n, r in rows.items() if r.get(study) and key in r[study]]
        return max(vals) if vals else (float("nan"), "")

    nj = auto["nanjing"]
    return {
        "oscd_f1": {"target": TARGETS["oscd"], "default": auto["oscd"]["f1"], "best": best("oscd", "f1")},
        "aerial_f1": {"target": TARGETS["aerial"], "default": auto["aerial"]["f1"], "best": best("aerial", "f1")},
        "nanjing": {"target": [TARGETS["nanjing_dr"], TARGETS["nanjing_fa"]], "default": [nj["dr"], nj["fa"]]},
        "oscd_patch_precision": {"target": TARGETS["oscd_pp"], "default": auto["oscd"].get("patch_precision"),
                                 "best": best("oscd", "patch_precision")},
    }


def _fmt(study: str, c: Mapping[str, Any] | None) -> str:
    if c is None:
        return ""
    if study == "nanjing":
        return f"{c['dr']:.3f} / {c['fa']:.3f}"
    s = f"{c['f1']:.3f}"
    if "patch_precision" in c:
        s += f" ({c['patch_precision']:.3f} / {c['object_recall']:.3f})"
    return s


def markdown(rows: Mapping[str, Mapping[str, Any]]) -> str:
    head = ("| detector | OSCD 9 cities F1 (PP / OR) | aerial F1 | Nanjing DR / FA | `samples/` F1 (PP / OR) |\n"
            "|---|---|---|---|---|\n")
    lines = [f"| {n} | " + " | ".join(_fmt(s, r.get(s)) for s in STUDIES) + " |" for n, r in rows.items()]
    t = targets(rows)
    lines.append(f"| **target** | >= {TARGETS['oscd']:.2f} (PP >= {TARGETS['oscd_pp']}) | >= {TARGETS['aerial']:.2f} | "
                 f">= {TARGETS['nanjing_dr']} / <= {TARGETS['nanjing_fa']} | (none; unseen guard) |")
    gap = (f"| gap of the default | {t['oscd_f1']['default'] - TARGETS['oscd']:+.3f} "
           f"(PP {t['oscd_patch_precision']['default'] - TARGETS['oscd_pp']:+.3f}) | "
           f"{t['aerial_f1']['default'] - TARGETS['aerial']:+.3f} | "
           f"DR {t['nanjing']['default'][0] - TARGETS['nanjing_dr']:+.3f}, FA {t['nanjing']['default'][1] - TARGETS['nanjing_fa']:+.3f} | |")
    return head + "\n".join(lines + [gap]) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--json", type=Path, default=None, help="also write the table and the targets as JSON")
    args = ap.parse_args(argv)
    rows = table(args.results)
    print(markdown(rows), end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "targets": targets(rows), "auto_members": AUTO_MEMBERS_BY_STUDY,
                                         "gaps": GAPS}, indent=1) + "\n")


if __name__ == "__main__":
    main()
