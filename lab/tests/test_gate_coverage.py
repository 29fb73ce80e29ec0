"""The cascade-gate measurement (lab/gate_coverage.py): what a gate level drops and passes."""
from __future__ import annotations

import numpy as np

from lab.gate_coverage import coverage, gate_statistic


def test_coverage_counts_flagged_pixels_out_of_the_gates_reach() -> None:
    stat = np.zeros((20, 20), np.float32)
    stat[5, 5] = 3.0
    flagged = np.zeros((20, 20), bool)
    flagged[5, 7] = True      # 2 px from the peak: inside a margin of 2
    flagged[15, 15] = True    # far from it: the gate drops it at every level above 0
    rec = coverage(stat, flagged, margin=2, levels=(0.0, 1.0, 3.0))
    assert rec["flagged"] == 2
    assert rec["dropped"] == {"0": 1, "1": 1, "3": 2}
    assert rec["passed"]["1"] == 25 / 400 and rec["passed"]["3"] == 0.0


def test_gate_statistic_is_the_smoothed_change_magnitude_in_spread_units() -> None:
    b = {r: np.full((9, 9), 10.0, np.float32) for r in ("red", "green", "blue")}
    a = {r: v.copy() for r, v in b.items()}
    a["red"][4, 4] = 16.0
    stat = gate_statistic(b, a, {"red": 2.0, "green": 1.0, "blue": 1.0})
    assert stat.argmax() == 40 and 0 < stat.max() < 3.0 and stat.sum() > 2.9   # 3 spreads, spread out
    assert np.all(gate_statistic(b, b, {"red": 1.0, "green": 1.0, "blue": 1.0}) == 0)
