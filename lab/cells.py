"""v4.7 candidate, rejected (models/README.md): gbm on 2 x 2 pixel cells, whole images only.

The features, trees and probability box of gbm run on ``cell`` x ``cell`` block means
(:func:`to_cells`) and the probability is upsampled bilinearly to the pixels
(:func:`from_cells`) before the cut; the class stays per pixel. Used by
:mod:`lab.cell_study` on whole images, which start at cell (0, 0); a windowed run would need
every window's read aligned to the cell grid (it never shipped, so the driver does not).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap
from models.change_class import classes_where
from models.features import BAND_SETS, compute_features
from models.gbm import GBMDetector, fill, prepare_after, probability_map, rescale


def to_cells(x: np.ndarray, cell: int) -> np.ndarray:
    """Means of ``cell`` x ``cell`` blocks from (0, 0), as float32; a ragged last row or column
    of blocks repeats the array's last row or column."""
    x = np.asarray(x, np.float32)
    if cell == 1:
        return x
    h, w = x.shape
    ph, pw = -h % cell, -w % cell
    if ph or pw:
        x = np.pad(x, ((0, ph), (0, pw)), mode="edge")
    hh, ww = x.shape[0] // cell, x.shape[1] // cell
    total = np.zeros((hh, ww), np.float32)
    for i in range(cell):   # the same additions in the same order for every block
        for j in range(cell):
            total += x[i::cell, j::cell]
    return total * np.float32(1.0 / (cell * cell))


def _axis_weights(n_out: int, n_in: int, cell: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper cell index and upper weight of each output pixel along one axis: pixel
    ``r``'s centre lies at cell coordinate ``(r + 0.5) / cell - 0.5``; outside the outer cell
    centres the edge cell is repeated."""
    u = (np.arange(n_out, dtype=np.float64) + 0.5) / cell - 0.5
    lo = np.floor(u)
    w = (u - lo).astype(np.float32)
    lo_i = np.clip(lo.astype(np.int64), 0, n_in - 1)
    hi_i = np.clip(lo.astype(np.int64) + 1, 0, n_in - 1)
    return lo_i, hi_i, w


def from_cells(p: np.ndarray, cell: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of the cell grid ``p`` to pixels of ``shape`` (float32)."""
    p = np.asarray(p, np.float32)
    if cell == 1:
        return p[: shape[0], : shape[1]]
    r0, r1, wr = _axis_weights(shape[0], p.shape[0], cell)
    c0, c1, wc = _axis_weights(shape[1], p.shape[1], cell)
    rows = p[r0] * (1 - wr)[:, None] + p[r1] * wr[:, None]
    return (rows[:, c0] * (1 - wc)[None, :] + rows[:, c1] * wc[None, :]).astype(np.float32)


def cell_probability(booster: Any, b: Mapping[str, np.ndarray], a: Mapping[str, np.ndarray], valid: np.ndarray,
                     scene: Mapping[str, Any], band_set: str, smooth_px: int, wide: bool = False,
                     cell: int = 1, num_threads: int = 1) -> np.ndarray:
    """Smoothed probability per pixel of prepared (filled, shifted, normalised) stacks, the
    features and trees run on ``cell`` x ``cell`` block means and upsampled (``cell`` 1: per pixel)."""
    if cell == 1:
        return probability_map(booster, compute_features(b, a, scene, band_set, wide), valid, smooth_px, num_threads)
    roles = BAND_SETS[band_set]
    bc = {r: to_cells(b[r], cell) for r in roles}
    ac = {r: to_cells(a[r], cell) for r in roles}
    vc = to_cells(valid.astype(np.float32), cell) > 0   # a cell with any valid pixel
    prob = probability_map(booster, compute_features(bc, ac, scene, band_set, wide), vc, smooth_px, num_threads)
    return from_cells(prob, cell, valid.shape)


class CellGBM(GBMDetector):
    """The shipped gbm detecting on ``cell`` x ``cell`` cells (whole images: see the module docstring)."""

    def __init__(self, cell: int = 2, **kw: Any) -> None:
        super().__init__(**kw)
        self.cell = int(cell)

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        band_set = self.band_set(set(scene["roles"]))
        booster, cut = self._boosters[band_set]
        b = fill({r: np.asarray(before[r], np.float32) for r in scene["roles"]}, scene["mean"])
        a = fill(prepare_after(after, scene), scene["mean"])
        prob = cell_probability(booster, b, a, valid, scene, band_set, self.smooth_px, self.wide, self.cell,
                                self.num_threads)
        score = np.where(valid, rescale(prob, cut), np.float32(0.0)).astype(np.float32)
        return ChangeMap(score=score, classes_of=classes_where(b, a, score > self.threshold))
