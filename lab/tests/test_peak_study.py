"""The v4.2 peak test's counting and its inner rule, on small exact fixtures."""
from __future__ import annotations

import numpy as np

from lab.peak_study import PEAKS, Cell, choose_peak, fixed_cva_peak_ts, peak_cells
from pipeline.evaluate.metrics import Confusion
from pipeline.evaluate.objects import ObjectCounts
from pipeline.evaluate.runner import PostProcess


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    score = np.zeros((40, 40))
    score[2:8, 2:8] = 0.6          # a faint patch on change
    score[2:8, 20:26] = 0.6        # a faint patch on no change
    score[20:28, 20:28] = 0.7      # a strong patch on change: one pixel at 0.99
    score[24, 24] = 0.99
    truth = np.zeros((40, 40), bool)
    truth[2:8, 2:8] = True
    truth[20:28, 20:28] = True
    return score, np.ones_like(truth), truth


def test_peak_cells_drop_whole_patches_below_the_level() -> None:
    score, valid, truth = _scene()
    post = PostProcess(opening_radius_px=1, min_area_m2=0.0, min_pixels=4)
    cells = peak_cells(score, valid, truth, 0.5, [0.5, 0.65, 0.995], post, None)
    assert [c.obj.patches for c in cells] == [3, 1, 0]
    assert cells[0].conf.tp == 36 + 64 and cells[0].conf.fp == 36
    assert cells[1].conf.tp == 64 and cells[1].conf.fp == 0     # the strong patch keeps its whole outline
    assert cells[1].obj.objects_found == 1 and cells[1].obj.objects == 2


def test_fixed_cva_levels_map_the_cut_onto_half() -> None:
    ts = fixed_cva_peak_ts(2.5, 2.5)
    assert np.allclose(ts, PEAKS)
    # at a cut of 2 m0 the level p is m >= k * 2 m0 where 1 - 2^-k^2 = p
    m0, cut = 2.5, 5.0
    for p, t in zip(PEAKS, fixed_cva_peak_ts(cut, m0)):
        k = np.sqrt(-np.log2(1 - p))
        assert np.isclose(t, 1 - 2 ** (-((k * cut / m0) ** 2)))


def _cell(tp: int, fp: int, patches: int, on: int, objects: int, found: int) -> Cell:
    return Cell(Confusion(tp=tp, fp=fp, fn=100 - tp, tn=1000), ObjectCounts(patches, on, objects, found))


def test_choose_peak_respects_the_recall_and_f1_slack() -> None:
    base = _cell(50, 50, 10, 3, 10, 8)
    better = _cell(50, 40, 6, 3, 10, 8)        # same objects, fewer false patches
    lossy = _cell(40, 10, 2, 2, 10, 2)         # precise but loses objects: excluded
    rows = [[base, better, lossy] + [lossy] * (len(PEAKS) - 3)]
    assert choose_peak(rows) == 1
    rows = [[base, base, better] + [lossy] * (len(PEAKS) - 3)]
    assert choose_peak(rows) == 2
    rows = [[base] * len(PEAKS)]
    assert choose_peak(rows) == 0               # ties go to no test
