"""Patches window by window: clean-up, labels, polygons and statistics, stitched across edges.

No array of the whole scene is ever held. Each window is cleaned (morphological opening) on its
flagged mask grown by a halo of ``2r`` pixels (erosion then dilation, each of radius ``r``, so
a pixel's result depends on pixels at most ``2r`` away; the halo stops at the scene edge, where
the whole-scene opening sees the same border), then labelled (8-connected) and each piece
traced in its own bounding box (:func:`rasterio.features.shapes`, 4-connected, in whole grid
pixel coordinates, so pieces from two windows share exact integer edges). Pieces that touch no
inner window edge are whole patches already: kept when at least the minimum mapping unit,
dropped otherwise. Pieces that touch an inner edge are joined with their neighbours across the
edge (union-find over the edge rows and columns, 8-connected, diagonals across corners
included) and their polygons united (:func:`shapely.unary_union`); the minimum mapping unit is
then applied to the merged pixel count. Patches are numbered in raster order of their first
pixel, as :func:`pipeline.patches.label_patches` numbers them on a whole scene: the result is
the same patch for patch whatever the window size.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import rasterio.features
import shapely
from affine import Affine
from rasterio.windows import Window
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import MultiPolygon, Polygon, shape

from pipeline.classes import ChangeClass
from pipeline.grid import Grid
from pipeline.patches import clean_mask

N_CLASSES = max(ChangeClass) + 1
_EIGHT = np.ones((3, 3), bool)


def cleanup_halo(opening_radius_px: int) -> int:
    """Context pixels a window's opening needs on each side (erosion + dilation)."""
    return 2 * max(0, opening_radius_px)


def grown(win: Window, halo: int, shape: tuple[int, int]) -> tuple[Window, tuple[slice, slice]]:
    """``win`` grown by ``halo`` and clipped to a ``shape`` grid, and where ``win`` lies in it."""
    r0, c0 = max(0, int(win.row_off) - halo), max(0, int(win.col_off) - halo)
    r1 = min(shape[0], int(win.row_off) + int(win.height) + halo)
    c1 = min(shape[1], int(win.col_off) + int(win.width) + halo)
    ri, ci = int(win.row_off) - r0, int(win.col_off) - c0
    return Window(c0, r0, c1 - c0, r1 - r0), (slice(ri, ri + int(win.height)),
                                               slice(ci, ci + int(win.width)))


@dataclass
class Pieces:
    """The patch pieces of one window (pixel coordinates of the whole grid)."""

    win: Window
    first: np.ndarray            # int64 raster index (row * width + col) of each piece's first pixel
    pixels: np.ndarray           # int64
    ssum: np.ndarray             # float64 sum of score
    smax: np.ndarray             # float64
    ccount: np.ndarray           # int64 (n, N_CLASSES) pixels per class
    geoms: list[list[Polygon]]   # 4-connected polygons of each piece
    is_open: np.ndarray          # bool: touches an inner window edge, may continue next door
    edges: dict[str, np.ndarray] = field(default_factory=dict)  # top/bottom/left/right: piece + 1


# rasterio's shapes() silences a warning of its in-memory raster with warnings.catch_warnings,
# which is not thread-safe: traced on several threads at once, "Dataset has no geotransform"
# leaks to the user's terminal (the polygons are right all the same). Tracing a piece's box
# takes a fraction of a millisecond, so the windows' threads take turns at it.
_TRACING = threading.Lock()


def _one_row_up(xy: np.ndarray) -> np.ndarray:
    return xy - (0.0, 1.0)


def window_pieces(flagged: np.ndarray, inner: tuple[slice, slice], win: Window,
                  score: np.ndarray, cls: np.ndarray, grid_shape: tuple[int, int],
                  opening_radius_px: int, mmu_pixels: int) -> Pieces:
    """Clean ``flagged`` (the window grown by :func:`cleanup_halo`, clipped to the grid), then
    label, measure and trace the pieces of ``win``; ``score``/``cls`` cover ``win`` only."""
    mask = clean_mask(flagged, opening_radius_px)[inner]
    labels, n = ndimage.label(mask, structure=_EIGHT, output=np.int32)
    h, w = labels.shape
    r0, c0, width = int(win.row_off), int(win.col_off), grid_shape[1]
    inner_edge = {"top": r0 > 0, "bottom": r0 + h < grid_shape[0],
                  "left": c0 > 0, "right": c0 + w < grid_shape[1]}
    lines = {"top": labels[0], "bottom": labels[-1], "left": labels[:, 0], "right": labels[:, -1]}
    is_open = np.zeros(n + 1, bool)
    for side, line in lines.items():
        if inner_edge[side]:
            is_open[line] = True
    flat = labels.ravel()
    pixels = np.bincount(flat, minlength=n + 1)
    keep = (pixels >= mmu_pixels) | is_open
    keep[0] = False
    # labels appear in raster order of their first pixel: the running maximum steps there
    steps = np.flatnonzero(np.diff(np.maximum.accumulate(flat), prepend=0) > 0)
    first_local = np.zeros(n + 1, np.int64)
    first_local[1:] = steps
    ids = np.flatnonzero(keep)
    remap = np.zeros(n + 1, np.int64)
    remap[ids] = np.arange(1, len(ids) + 1)
    sel = keep[labels]
    lab = labels[sel]
    s = score.astype(np.float32)[sel].astype(np.float64)
    ssum = np.bincount(lab, weights=s, minlength=n + 1)
    smax = np.full(n + 1, -np.inf)
    np.maximum.at(smax, lab, s)
    ccount = np.bincount(lab * N_CLASSES + cls[sel].astype(np.int64),
                         minlength=(n + 1) * N_CLASSES).reshape(n + 1, N_CLASSES)
    geoms: dict[int, list[Polygon]] = {int(i): [] for i in ids}
    boxes = ndimage.find_objects(labels)
    for i in ids:
        # each piece is traced inside its own bounding box (the window's noise flags spread
        # over most of it, so tracing the whole window would walk every pixel), in grid pixels
        # moved by whole pixels: exact. A box at (0, 0) would have the identity transform,
        # which rasterio takes for "not georeferenced" and warns about (a warning filter is no
        # cure: windows run on several threads), so it is traced one row down and moved back up
        rows, cols = boxes[i - 1]
        x0, y0 = c0 + cols.start, r0 + rows.start
        lift = 1.0 if (x0, y0) == (0, 0) else 0.0
        own = labels[rows, cols] == i
        with _TRACING:
            traced = list(rasterio.features.shapes(own.view(np.uint8), mask=own, connectivity=4,
                                                   transform=Affine.translation(x0, y0 + lift)))
        for geom, _ in traced:
            piece = shape(geom)
            geoms[int(i)].append(shapely.transform(piece, _one_row_up) if lift else piece)
    fr, fc = np.divmod(first_local[ids], w)
    return Pieces(
        win=win, first=(r0 + fr) * width + c0 + fc, pixels=pixels[ids].astype(np.int64),
        ssum=ssum[ids], smax=smax[ids], ccount=ccount[ids], geoms=[geoms[int(i)] for i in ids],
        is_open=is_open[ids],
        edges={side: remap[line] for side, line in lines.items() if inner_edge[side]},
    )


class Stitcher:
    """Collects :class:`Pieces` of windows given in raster order (``Grid.blocks``); joins them."""

    def __init__(self, grid: Grid, mmu_pixels: int) -> None:
        self.grid, self.mmu = grid, mmu_pixels
        self._done: list[tuple[int, int, float, float, np.ndarray, list[Polygon]]] = []
        self._open: list[tuple[int, int, float, float, np.ndarray, list[Polygon]]] = []
        self._pairs: list[np.ndarray] = []
        self._prev_bottom = np.zeros(grid.width, np.int64)  # open ids (1-based) of the band above
        self._bottom = np.zeros(grid.width, np.int64)
        self._right: np.ndarray | None = None
        self._band = -1

    def add(self, p: Pieces) -> None:
        gid = np.zeros(len(p.pixels) + 1, np.int64)  # piece + 1 -> open id (1-based), 0 = none
        for k in range(len(p.pixels)):
            item = (int(p.first[k]), int(p.pixels[k]), float(p.ssum[k]), float(p.smax[k]),
                    p.ccount[k], p.geoms[k])
            if p.is_open[k]:
                self._open.append(item)
                gid[k + 1] = len(self._open)
            else:
                self._done.append(item)
        r0, c0, w = int(p.win.row_off), int(p.win.col_off), int(p.win.width)
        if r0 != self._band:
            self._prev_bottom, self._bottom = self._bottom, np.zeros(self.grid.width, np.int64)
            self._band, self._right = r0, None
        if "top" in p.edges:
            top = gid[p.edges["top"]]
            for dc in (-1, 0, 1):
                lo, hi = max(0, c0 + dc), min(self.grid.width, c0 + w + dc)
                self._pair(top[lo - c0 - dc:hi - c0 - dc], self._prev_bottom[lo:hi])
        if "left" in p.edges and self._right is not None:
            left, right = gid[p.edges["left"]], self._right
            self._pair(left, right)
            self._pair(left[1:], right[:-1])
            self._pair(left[:-1], right[1:])
        self._right = gid[p.edges["right"]] if "right" in p.edges else None
        if "bottom" in p.edges:
            self._bottom[c0:c0 + w] = gid[p.edges["bottom"]]

    def _pair(self, a: np.ndarray, b: np.ndarray) -> None:
        both = (a > 0) & (b > 0)
        if both.any():
            self._pairs.append(np.unique(np.stack([a[both], b[both]], axis=1), axis=0))

    def _merged(self) -> list[tuple[int, int, float, float, np.ndarray, list[Polygon]]]:
        n = len(self._open)
        if n == 0:
            return []
        pairs = np.concatenate(self._pairs) - 1 if self._pairs else np.zeros((0, 2), np.int64)
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        members: dict[int, list[int]] = {}
        for i, c in enumerate(comp):  # pieces in window order: sums add up in that order
            members.setdefault(int(c), []).append(i)
        out = []
        for idx in members.values():
            items = [self._open[i] for i in idx]
            pixels = sum(it[1] for it in items)
            if pixels < self.mmu:
                continue
            ssum = 0.0
            for it in items:
                ssum += it[2]
            polys = [g for it in items for g in it[5]]
            geom = shapely.simplify(shapely.unary_union(polys), 0) if len(items) > 1 else None
            parts = polys if geom is None else list(getattr(geom, "geoms", [geom]))
            out.append((min(it[0] for it in items), pixels, ssum, max(it[3] for it in items),
                        np.sum([it[4] for it in items], axis=0), parts))
        return out

    def finish(self) -> tuple[list[Polygon | MultiPolygon], dict[str, np.ndarray]]:
        """Geometries (grid CRS) and statistics of every patch, in raster order of first pixel."""
        items = sorted(self._done + self._merged(), key=lambda it: it[0])
        t = self.grid.transform
        geoms = [p[0] if len(p) == 1 else MultiPolygon(p) for p in (it[5] for it in items)]
        garr = np.asarray(geoms, dtype=object) if geoms else np.zeros(0, object)
        if len(garr):
            garr = shapely.transform(garr, lambda xy: np.column_stack(
                (t.a * xy[:, 0] + t.b * xy[:, 1] + t.c, t.d * xy[:, 0] + t.e * xy[:, 1] + t.f)))
        pixels = np.asarray([it[1] for it in items], np.int64)
        counts = (np.asarray([it[4] for it in items], np.int64).reshape(-1, N_CLASSES)[:, 1:])
        majority = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1) + 1,
                            int(ChangeClass.OTHER))
        return list(garr), {
            "pixels": pixels,
            "score_mean": np.asarray([it[2] for it in items], float) / np.maximum(pixels, 1),
            "score_max": np.asarray([it[3] for it in items], float),
            "change_class": majority,
        }


def patches_by_window(flagged: np.ndarray, score: np.ndarray, cls: np.ndarray, grid: Grid,
                      opening_radius_px: int, mmu_pixels: int, block_size: int,
                      ) -> tuple[Sequence[Polygon | MultiPolygon], dict[str, np.ndarray]]:
    """The windowed path on in-memory arrays (for checks against the whole-scene result)."""
    st = Stitcher(grid, mmu_pixels)
    halo = cleanup_halo(opening_radius_px)
    for win in grid.blocks(block_size):
        big, inner = grown(win, halo, grid.shape)
        rows, cols = big.toslices()
        wr, wc = win.toslices()
        st.add(window_pieces(flagged[rows, cols], inner, win, score[wr, wc], cls[wr, wc],
                             grid.shape, opening_radius_px, mmu_pixels))
    return st.finish()
