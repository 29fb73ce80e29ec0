"""Per-pixel detectors read each pixel once: detection first, the clean-up one window row later.

The clean-up's opening needs ``2r`` pixels of the flagged mask around each window
(:func:`pipeline.stitch.cleanup_halo`). Reading that context from the files with every window
decodes the neighbouring file blocks again (a 1,024 px window on 512 px blocks with a 2 px halo
touches 16 blocks instead of 4; the read was a third slower than without). A detector whose
score is per pixel (``halo`` 0: cva, irmad) does not need the neighbours' bands, only their
flagged pixels, which its neighbours' own detection gives. So windows are detected without
halo, in raster order, and each window is cleaned, labelled and traced as soon as every
neighbour within the halo has been detected: one window row and one window later. Until then a
window keeps only its flagged pixels (flat indices, score and class there): the pieces use no
other pixel. The pieces are the ones the one-pass driver gives, window for window
(``tests/test_lagged.py``).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

from pipeline.stitch import Pieces, grown, window_pieces


@dataclass(frozen=True)
class Flagged:
    """The flagged pixels of one detected window: flat indices in the window, score, class."""

    win: Window
    index: np.ndarray   # int32 flat indices into the window (rows x cols), ascending
    score: np.ndarray   # float32 at those pixels
    cls: np.ndarray     # uint8 at those pixels

    @classmethod
    def of(cls, win: Window, flagged: np.ndarray, score: np.ndarray, classes: np.ndarray) -> Flagged:
        index = np.flatnonzero(flagged).astype(np.int32)
        return cls(win, index, score.ravel()[index], classes.ravel()[index])


def _paste(box: Window, shape: tuple[int, int], items: Iterable[Flagged]) -> np.ndarray:
    """The flagged mask of ``box`` (grid pixels) from the windows that overlap it."""
    out = np.zeros(shape, bool)
    br, bc = int(box.row_off), int(box.col_off)
    for f in items:
        if not len(f.index):
            continue
        w = int(f.win.width)
        rows, cols = np.divmod(f.index, w)
        rows = rows + (int(f.win.row_off) - br)
        cols = cols + (int(f.win.col_off) - bc)
        inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
        out[rows[inside], cols[inside]] = True
    return out


def lagged_pieces(detected: Iterator[Flagged], windows: list[Window], grid_shape: tuple[int, int],
                  opening_radius_px: int, mmu_pixels: int, halo: int, workers: int) -> Iterator[Pieces]:
    """The :class:`Pieces` of each window of ``windows`` (raster order, one grid row of windows
    after another, as :meth:`Grid.blocks` gives them), from the detected windows in the same
    order; each window is cleaned once every window within ``halo`` pixels is detected."""
    n = len(windows)
    if n == 0:
        return
    per_row = sum(1 for w in windows if int(w.row_off) == int(windows[0].row_off))
    lag = per_row + 1  # the bottom-right neighbour comes this many windows later
    kept: dict[int, Flagged] = {}
    pending: deque[Future[Pieces] | Pieces] = deque()
    pool = ThreadPoolExecutor(workers) if workers > 1 else None

    def neighbours(k: int) -> list[Flagged]:
        return [kept[j] for j in (k - lag, k - lag + 1, k - lag + 2, k - 1, k, k + 1,
                                  k + lag - 2, k + lag - 1, k + lag) if j in kept]

    def clean(k: int) -> Future[Pieces] | Pieces:
        win, own = windows[k], kept[k]
        big, inner = grown(win, halo, grid_shape)
        mask = _paste(big, (int(big.height), int(big.width)), neighbours(k))
        h, w = int(win.height), int(win.width)
        score, cls = np.zeros(h * w, np.float32), np.zeros(h * w, np.uint8)
        score[own.index], cls[own.index] = own.score, own.cls
        args = (mask, inner, win, score.reshape(h, w), cls.reshape(h, w), grid_shape,
                opening_radius_px, mmu_pixels)
        return pool.submit(window_pieces, *args) if pool is not None else window_pieces(*args)

    def ready() -> Iterator[Pieces]:
        while pending and (not isinstance(pending[0], Future) or pending[0].done()):
            head = pending.popleft()
            yield head.result() if isinstance(head, Future) else head

    try:
        next_clean = 0
        for k, flagged in enumerate(detected):
            kept[k] = flagged
            while next_clean <= k - lag or (k == n - 1 and next_clean < n):
                pending.append(clean(next_clean))
                kept.pop(next_clean - lag, None)  # no later window reaches back this far
                next_clean += 1
            yield from ready()
            while len(pending) > 2 * workers:  # clean-up behind detection: wait, hold no more
                head = pending.popleft()
                yield head.result() if isinstance(head, Future) else head
        while pending:
            head = pending.popleft()
            yield head.result() if isinstance(head, Future) else head
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

