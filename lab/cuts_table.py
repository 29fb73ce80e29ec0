"""The v4 protocol's table from lab/results/v4-cuts/*.json (see lab/cuts_study.py).

    python -m lab.cuts_table lab/results/v4-cuts
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NEW3 = ("chongqing", "montpellier", "valencia")
STUDIES = ("oscd", "oscd-new3", "aerial", "nanjing", "samples")


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def new3(rec: dict[str, Any]) -> dict[str, float]:
    """Pooled F1, patch precision and object recall over the three new cities of an OSCD record."""
    c = [rec["cities"][k] for k in NEW3 if k in rec["cities"]]
    tp, fp, fn = (sum(x[k] for x in c) for k in ("tp", "fp", "fn"))
    o = [x["objects"] for x in c]
    pp = sum(x["patches_on_change"] for x in o) / max(sum(x["patches"] for x in o), 1)
    orc = sum(x["objects_found"] for x in o) / max(sum(x["objects"] for x in o), 1)
    return {"f1": round(_f1(tp, fp, fn), 4), "patch_precision": round(pp, 4), "object_recall": round(orc, 4)}


def nanjing_score(dr: float, fa: float) -> float:
    return dr if fa <= 0.03 else dr - 10 * (fa - 0.03)


def table(folder: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*--*.json")):
        study, name = path.stem.split("--", 1)
        if study not in STUDIES:  # other records in the folder (ablations, diagnostics)
            continue
        rec = json.loads(path.read_text())
        row = rows.setdefault(name, {})
        if study == "nanjing":
            dr, fa = rec["detection_rate"], rec["false_alarm_rate"]
            row["nanjing"] = {"dr": dr, "fa": fa, "score": round(nanjing_score(dr, fa), 4)}
        elif study in ("oscd", "oscd-new3"):
            if study == "oscd":
                row["oscd9"] = {"f1": rec["pooled"]["f1"], **{k: rec["pooled_objects"][k]
                                                              for k in ("patch_precision", "object_recall")}}
                row["per_city"] = {k: v["f1"] for k, v in rec["cities"].items()}
            row["new3"] = new3(rec)
        else:
            row[study] = {"f1": rec["pooled"]["f1"], **{k: rec["pooled_objects"][k]
                                                        for k in ("patch_precision", "object_recall")}}
    return rows


def main() -> None:
    rows = table(Path(sys.argv[1]))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
