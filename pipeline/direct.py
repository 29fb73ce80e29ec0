"""Reads that skip the warper when a file already lies on the pair grid.

Most pairs are two dates of one tiling (a Sentinel-2 MGRS tile, a Gaofen scene cut to a
sheet): the file's pixels are the grid's pixels, shifted by whole rows and columns. Warping
such a file onto the grid (``rasterio.vrt.WarpedVRT``, bilinear) gives every pixel its own
value, only at the price of resampling each one; reading the file's window directly gives the
same values at the cost of the decode alone. :func:`grid_offset` says when a file qualifies
(same CRS, same pixel size, no rotation, a whole-pixel offset, validity from a nodata value or
none at all, a type float32 holds exactly); :func:`read_window` and :func:`read_decimated`
then stand in for the warped reads, value for value (``tests/test_direct.py`` compares them
with the warper on the same files).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from pipeline.grid import Grid

_EXACT_IN_FLOAT32 = {"uint8", "int8", "uint16", "int16", "float32"}
_TOLERANCE = 1e-9
STRIP_ROWS = 512
CHUNK_COLS = 2048
"""Rows and columns a decimated read decodes at a time (whole blocks: each is decoded once)."""


def grid_offset(src: rasterio.DatasetReader, grid: Grid, indexes: Sequence[int]) -> tuple[int, int] | None:
    """``(row, col)`` of the grid's first pixel in ``src`` when ``src`` lies on the grid's pixels
    (see the module docstring), else None: the file is read through the warper."""
    if src.crs is None or src.crs != grid.crs:
        return None
    s, g = src.transform, grid.transform
    if s.b != 0 or s.d != 0 or g.b != 0 or g.d != 0:
        return None
    if abs(s.a - g.a) > _TOLERANCE * abs(g.a) or abs(s.e - g.e) > _TOLERANCE * abs(g.e):
        return None
    col, row = (g.c - s.c) / s.a, (g.f - s.f) / s.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    for i in indexes:
        if src.dtypes[i - 1] not in _EXACT_IN_FLOAT32:
            return None
        flags = set(src.mask_flag_enums[i - 1])
        if flags not in ({MaskFlags.nodata}, {MaskFlags.all_valid}):
            return None  # a mask band or alpha: the warper's validity rules apply
    return int(round(row)), int(round(col))


def _as_float(data: np.ndarray, src: rasterio.DatasetReader, indexes: Sequence[int]) -> np.ndarray:
    out = data.astype(np.float32)
    for k, i in enumerate(indexes):
        nodata = src.nodatavals[i - 1]
        if nodata is not None and not math.isnan(nodata):
            out[k][data[k] == nodata] = np.nan
    return out


def read_window(src: rasterio.DatasetReader, indexes: Sequence[int], offset: tuple[int, int],
                window: Window) -> np.ndarray:
    """Bands ``indexes`` of ``src`` on ``window`` of the grid: float32 ``(k, h, w)``, NaN where
    ``src`` holds nodata or does not reach."""
    h, w = int(window.height), int(window.width)
    r0, c0 = int(window.row_off) + offset[0], int(window.col_off) + offset[1]
    rr0, cc0 = max(r0, 0), max(c0, 0)
    rr1, cc1 = min(r0 + h, src.height), min(c0 + w, src.width)
    if (rr0, cc0, rr1, cc1) == (r0, c0, r0 + h, c0 + w):  # inside the file: no padding to fill
        return _as_float(src.read(list(indexes), window=Window(c0, r0, w, h)), src, indexes)
    out = np.full((len(indexes), h, w), np.nan, np.float32)
    if rr1 > rr0 and cc1 > cc0:
        data = src.read(list(indexes), window=Window(cc0, rr0, cc1 - cc0, rr1 - rr0))
        out[:, rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0] = _as_float(data, src, indexes)
    return out


def decimated_positions(n: int, f: int, coarse_n: int) -> np.ndarray:
    """Fine pixel each of ``coarse_n`` coarse pixels (``f`` fine ones wide) takes by nearest
    neighbour: the one under its centre, ``floor((i + 0.5) f)``, as the warper picks it."""
    return np.floor((np.arange(coarse_n) + 0.5) * f + 1e-10).astype(np.int64)


def _groups(positions: np.ndarray, ok: np.ndarray, step: int) -> list[np.ndarray]:
    """Indices (into ``positions``) of the valid positions, grouped by chunk of ``step``."""
    idx = np.flatnonzero(ok)
    if not len(idx):
        return []
    chunk = positions[idx] // step
    cuts = np.flatnonzero(np.diff(chunk)) + 1
    return np.split(idx, cuts)


def read_decimated(src: rasterio.DatasetReader, indexes: Sequence[int], offset: tuple[int, int],
                   grid: Grid, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Every ``f``-th pixel of the grid (nearest, ``shape`` = the coarse grid's), float32
    ``(k, rows, cols)``, NaN where ``src`` holds nodata or does not reach. Decoded in chunks
    of whole blocks (about :data:`STRIP_ROWS` x :data:`CHUNK_COLS`), each block once, so
    memory does not grow with the scene's width."""
    rows = decimated_positions(grid.height, f, shape[0]) + offset[0]
    cols = decimated_positions(grid.width, f, shape[1]) + offset[1]
    out = np.full((len(indexes), *shape), np.nan, np.float32)
    bh, bw = src.block_shapes[indexes[0] - 1]
    row_step, col_step = bh * max(1, STRIP_ROWS // bh), bw * max(1, CHUNK_COLS // bw)
    col_groups = _groups(cols, (cols >= 0) & (cols < src.width), col_step)
    for rsel in _groups(rows, (rows >= 0) & (rows < src.height), row_step):
        r0, r1 = int(rows[rsel[0]]), int(rows[rsel[-1]]) + 1
        for csel in col_groups:
            c0, c1 = int(cols[csel[0]]), int(cols[csel[-1]]) + 1
            data = src.read(list(indexes), window=Window(c0, r0, c1 - c0, r1 - r0))
            sub = data[:, rows[rsel] - r0][:, :, cols[csel] - c0]
            out[:, rsel[0]:rsel[-1] + 1, csel[0]:csel[-1] + 1] = _as_float(sub, src, indexes)
    return out
