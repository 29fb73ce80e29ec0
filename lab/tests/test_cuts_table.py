"""The protocol table (lab/cuts_table.py) reads study records and skips the folder's other records."""
from __future__ import annotations

import json
from pathlib import Path

from lab.cuts_table import table


def test_table_skips_records_that_are_not_a_study(tmp_path: Path) -> None:
    nanjing = {"detection_rate": 0.8, "false_alarm_rate": 0.04}
    (tmp_path / "nanjing--cva.json").write_text(json.dumps(nanjing))
    (tmp_path / "ablation-vegetation+water--nanjing--cva.json").write_text(json.dumps(nanjing))
    (tmp_path / "reasons.json").write_text("{}")
    rows = table(tmp_path)
    assert list(rows) == ["cva"]
    assert rows["cva"]["nanjing"] == {"dr": 0.8, "fa": 0.04, "score": 0.7}
