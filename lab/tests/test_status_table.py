"""The status table (lab/status_table.py): every cell from its record, the default's gaps from them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.status_table import RESULTS, ROWS, STUDIES, Source, cell, markdown, table, targets


def _pooled(f1: float) -> dict[str, float]:
    return {"f1": f1, "precision": f1 + 0.1, "recall": f1 - 0.1}


def test_every_source_of_the_table_is_a_record_in_the_repository() -> None:
    missing = [src.path for sources in ROWS.values() for src in sources.values() if not (RESULTS / src.path).exists()]
    assert missing == []


def test_cells_read_plain_records_and_cross_validation_members(tmp_path: Path) -> None:
    (tmp_path / "plain.json").write_text(json.dumps(
        {"pooled": _pooled(0.3), "pooled_objects": {"patch_precision": 0.4, "object_recall": 0.7}}))
    (tmp_path / "cv.json").write_text(json.dumps({"oscd_loco": {"pooled": {"gbm": _pooled(0.39), "gate": _pooled(0.4)}}}))
    (tmp_path / "roi.json").write_text(json.dumps({"detection_rate": 0.8, "false_alarm_rate": 0.04}))
    plain = cell("samples", Source("plain.json"), None, tmp_path)
    assert plain is not None and (plain["f1"], plain["patch_precision"], plain["object_recall"]) == (0.3, 0.4, 0.7)
    member = cell("oscd", Source("cv.json", "oscd_loco", "gate"), Source("plain.json"), tmp_path)
    assert member is not None and (member["f1"], member["patch_precision"]) == (0.4, 0.4)
    assert cell("nanjing", Source("roi.json"), None, tmp_path) == {"dr": 0.8, "fa": 0.04, "source": "roi.json"}
    assert cell("aerial", Source("absent.json"), None, tmp_path) is None


def test_the_default_row_and_its_gaps_come_from_the_records() -> None:
    rows = table()
    auto = rows["**auto** (the default)"]
    assert set(auto) == set(STUDIES)
    t = targets(rows)
    assert t["oscd_f1"]["default"] == pytest.approx(auto["oscd"]["f1"])
    assert t["aerial_f1"]["best"][0] >= t["aerial_f1"]["default"]
    text = markdown(rows)
    assert text.count("\n") == len(rows) + 4  # header, rule, the rows, target, gap
    assert f"{auto['aerial']['f1'] - 0.50:+.3f}" in text
