"""Cloud masks for Sentinel-2 L1C tiles without one of their own, and what clouds cost a run.

A tile's own cloud layer (``SCL``, ``MSK_CLDPRB``, a ``_cloud`` sidecar; :mod:`pipeline.io.tiles`)
is always used when it has one. A Sentinel-2 tile without one that carries the ten L1C bands of
the cloud model (:data:`pipeline.sensors.S2_CLOUD_BANDS`; ``Tile.cloud_bands``) gets one here:

1. the ten bands are read onto a whole-factor decimation of the pair grid (``resolution_m``,
   60 m by default: the model's coarsest bands' own pixel) by GDAL's area average, in strips of
   rows, so no full-resolution array of the scene is ever held;
2. s2cloudless' model gives each coarse pixel a cloud probability (:mod:`models.cloudmask`),
   in two steps to save predicts (:func:`strip_probability`);
3. its own post-processing: averaged over a disk of ``average_m``, cut at ``threshold``, then
   dilated by ``dilation_m`` -- a buffer over haze at cloud edges and the nearest shadows;
4. :class:`CloudMask` answers any window of the pair grid by nearest lookup (each grid pixel takes
   its coarse pixel's value), so a window's mask does not depend on the window size.

Cloudy pixels are not valid: no change is claimed there, so no patch and no lead.
:func:`cloud_loss` measures, on the scene sample every run reads, how much of the overlap each
date and both together lost to clouds (share and km2); it goes into the run's scene parameters
(``scene["clouds"]``), the CLI's run output and the Prefect summary artifact.

A Sentinel-2 tile lacking some of the ten bands (an L2A product without its ``SCL``, a 4-band
cut-out) is not refused: its clouds are "not checked", and the run says so and why.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from rasterio.windows import Window

from pipeline.grid import Grid
from pipeline.io.tiles import Tile


@dataclass(frozen=True)
class CloudSettings:
    """How the computed mask is made; recorded with every run that uses it."""

    resolution_m: float = 60.0
    threshold: float = 0.4
    average_m: float = 240.0
    dilation_m: float = 120.0
    strip_rows: int = 256  # coarse rows read and predicted at a time (even: see two_step)
    gate: float = 0.25     # two-step predict (strip_probability); 0: every pixel predicted

    def factor(self, grid: Grid) -> int:
        """Whole decimation factor of ``grid`` closest to ``resolution_m``."""
        return max(1, round(self.resolution_m / grid.res[0]))

    def describe(self, grid: Grid) -> dict[str, Any]:
        from models.cloudmask import VERSION

        res = grid.res[0] * self.factor(grid)
        return {"model": VERSION, "resolution_m": res, "threshold": self.threshold,
                "average_m": self.average_m, "dilation_m": self.dilation_m}


DEFAULT_SETTINGS = CloudSettings()


@dataclass(frozen=True, eq=False)
class CloudMask:
    """A date's cloud mask on the pair ``grid``, held at ``factor`` times its pixel size."""

    grid: Grid
    factor: int
    cloudy: np.ndarray  # bool, (ceil(height / factor), ceil(width / factor))
    source: str

    def window(self, window: Window) -> np.ndarray:
        """The mask on a window inside the grid, shaped (height, width) of the window."""
        r0, c0 = int(window.row_off), int(window.col_off)
        rows = np.arange(r0, r0 + int(window.height)) // self.factor
        cols = np.arange(c0, c0 + int(window.width)) // self.factor
        return self.cloudy[np.ix_(rows, cols)]

    def on(self, coarse: Grid) -> np.ndarray:
        """The mask on a whole-factor decimation of the grid (as a nearest-resampled read of it)."""
        g = coarse.res[0] / self.grid.res[0]

        def idx(n: int, size: int) -> np.ndarray:
            fine = np.floor((np.arange(n) + 0.5) * g).astype(np.int64)
            return np.clip(fine, 0, size - 1) // self.factor

        return self.cloudy[np.ix_(idx(coarse.height, self.grid.height), idx(coarse.width, self.grid.width))]


def computed_source() -> str:
    from models.cloudmask import VERSION

    return VERSION


def cloud_source(tile: Tile) -> dict[str, Any]:
    """Where a date's clouds come from: its own layer, the model, or nowhere (with why)."""
    if tile.cloud is not None:
        return {"source": "tile", "layer": tile.cloud.path.name, "kind": tile.cloud.kind}
    if tile.cloud_bands:
        return {"source": computed_source()}
    return {"source": "none", "note": tile.cloud_note or "no cloud layer"}


def compute_cloud_mask(tile: Tile, grid: Grid, settings: CloudSettings = DEFAULT_SETTINGS,
                       num_threads: int = 0,
                       progress: Callable[[int, int], None] | None = None) -> CloudMask:
    """The cloud model's mask of ``tile`` on ``grid`` (see the module docstring)."""
    from models.cloudmask import cloud_mask_from_probability

    prob, f = cloud_probability_map(tile, grid, settings, num_threads, progress)
    px = grid.res[0] * f
    mask = cloud_mask_from_probability(prob, settings.threshold, round(settings.average_m / px),
                                       round(settings.dilation_m / px))
    return CloudMask(grid, f, mask, computed_source())


def cloud_probability_map(tile: Tile, grid: Grid, settings: CloudSettings = DEFAULT_SETTINGS,
                          num_threads: int = 0, progress: Callable[[int, int], None] | None = None,
                          ) -> tuple[np.ndarray, int]:
    """(cloud probability on the decimated grid, its factor): steps 1-2 of the module docstring."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    from pipeline.align import limit_gdal_cache
    from pipeline.sensors import S2_CLOUD_BANDS

    if not tile.cloud_bands:
        raise ValueError(f"{tile.path}: no cloud-model bands ({tile.cloud_note})")
    limit_gdal_cache()
    f = settings.factor(grid)
    coarse = Grid(grid.crs, grid.transform @ Affine.scale(f), math.ceil(grid.width / f),
                  math.ceil(grid.height / f))
    refs = [tile.cloud_bands[b] for b in S2_CLOUD_BANDS]
    prob = np.full(coarse.shape, np.nan, np.float32)
    strips = list(range(0, coarse.height, settings.strip_rows))
    with ExitStack() as stack:
        vrts: dict[str, WarpedVRT] = {}
        for ref in refs:
            if str(ref.path) not in vrts:
                src = stack.enter_context(rasterio.open(ref.path))
                vrts[str(ref.path)] = stack.enter_context(WarpedVRT(
                    src, crs=coarse.crs, transform=coarse.transform, width=coarse.width,
                    height=coarse.height, resampling=Resampling.average, dtype="float32", nodata=np.nan))
        for i, r0 in enumerate(strips):
            h = min(settings.strip_rows, coarse.height - r0)
            win = Window(0, r0, coarse.width, h)
            x = np.empty((h, coarse.width, len(refs)), np.float32)
            for k, ref in enumerate(refs):
                x[..., k] = vrts[str(ref.path)].read(ref.index, window=win) / np.float32(ref.scale)
            prob[r0:r0 + h] = strip_probability(x, num_threads, settings.gate)
            if progress is not None:
                progress(i + 1, len(strips))
    return prob, f


def strip_probability(x: np.ndarray, num_threads: int = 0, gate: float = 0.25) -> np.ndarray:
    """Cloud probability of a strip ``(h, w, 10)`` of pixels, predicted in two steps.

    The model's cost is its predict. First each 2 x 2 block's mean spectrum is predicted; then
    the pixels themselves, only where their block or one next to it (within the strip) reaches
    ``gate``; elsewhere the block's probability stands. Below the 0.4 cut, and averaged over a
    240 m disk afterwards, this changed no mask pixel on the 18 OSCD dates (model card) while
    predicting 56 % as many pixels there (a quarter in a dark, clear scene). ``gate`` 0: every
    pixel.
    """
    import warnings

    from models.cloudmask import cloud_probability

    h, w, n = x.shape
    has = np.isfinite(x).all(axis=-1)
    if gate <= 0 or h < 2 or w < 2:
        return cloud_probability(x.reshape(-1, n), num_threads).reshape(h, w)
    hh, ww = -(-h // 2), -(-w // 2)
    pad = np.pad(x, ((0, 2 * hh - h), (0, 2 * ww - w), (0, 0)), mode="edge")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # blocks without data stay NaN
        blocks = np.nanmean(pad.reshape(hh, 2, ww, 2, n), axis=(1, 3))
    coarse = cloud_probability(blocks.reshape(-1, n), num_threads).reshape(hh, ww)
    from scipy import ndimage

    near = ndimage.maximum_filter(np.nan_to_num(coarse, nan=0.0), size=3, mode="nearest") >= gate
    out = np.repeat(np.repeat(coarse, 2, 0), 2, 1)[:h, :w]
    need = np.repeat(np.repeat(near, 2, 0), 2, 1)[:h, :w] & has
    if need.any():
        out[need] = cloud_probability(x[need], num_threads)
    out[~has] = np.nan
    return out


def pair_masks(before: Tile, after: Tile, grid: Grid, settings: CloudSettings = DEFAULT_SETTINGS,
               num_threads: int = 0,
               progress: Callable[[str, int, int], None] | None = None,
               ) -> tuple[CloudMask | None, CloudMask | None]:
    """Computed masks of both dates (None for a date with its own layer or without the bands)."""
    out: list[CloudMask | None] = []
    for name, tile in (("before", before), ("after", after)):
        cb = None if progress is None else (lambda d, t, n=name: progress(f"clouds ({n})", d, t))
        out.append(compute_cloud_mask(tile, grid, settings, num_threads, cb)
                   if tile.cloud is None and tile.cloud_bands else None)
    return out[0], out[1]


def cloud_loss(before: Any, after: Any, grid: Grid, max_pixels: int,
               settings: CloudSettings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """How much of the overlap each date and both together lost to clouds.

    ``before``/``after`` are :class:`pipeline.align.TileReader` s; measured on their decimated
    scene sample (``sample_clouds``), the one the scene fit reads. The overlap is where both
    dates have data; ``share`` is of the overlap, ``km2`` of ground. A date whose clouds were
    not checked has ``share`` and ``km2`` None and a ``note``.
    """
    db, cb = before.sample_clouds(max_pixels)
    da, ca = after.sample_clouds(max_pixels)
    inside = _inside(grid, max_pixels)
    overlap = db & da & inside
    n = int(overlap.sum())
    overlap_km2 = n / max(1, int(inside.sum())) * grid.width * grid.height * grid.pixel_area / 1e6
    out: dict[str, Any] = {"overlap_km2": round(overlap_km2, 4), "sample_pixels": int(inside.sum())}
    checked = []
    for name, reader, cloudy in (("before", before, cb), ("after", after, ca)):
        entry: dict[str, Any] = cloud_source(reader.tile) if reader.honours_clouds else {
            "source": "none", "note": "cloud layers ignored"}
        if entry["source"] == computed_source() and reader.clouds is None:
            entry = {"source": "none", "note": "cloud mask not computed"}
        entry["date"] = reader.tile.acquired.isoformat()
        if entry["source"] == "none":
            entry.update(share=None, km2=None)
        else:
            checked.append(cloudy)
            entry.update(_share(cloudy & overlap, n, overlap_km2))
        out[name] = entry
    union = np.logical_or.reduce(checked) if checked else None
    out["union"] = (_share(union & overlap, n, overlap_km2) if union is not None
                    else {"share": None, "km2": None})
    if any(out[d]["source"] == computed_source() for d in ("before", "after")):
        out["model"] = settings.describe(grid)
    return out


def _inside(grid: Grid, max_pixels: int) -> np.ndarray:
    """Sample pixels whose centre falls inside the grid (the decimation's last row/column may not)."""
    from pipeline.align import decimated_grid

    coarse = decimated_grid(grid, max_pixels)
    g = coarse.res[0] / grid.res[0]
    rows = np.floor((np.arange(coarse.height) + 0.5) * g) < grid.height
    cols = np.floor((np.arange(coarse.width) + 0.5) * g) < grid.width
    return np.outer(rows, cols)


def _share(lost: np.ndarray, n: int, overlap_km2: float) -> dict[str, float]:
    share = float(lost.sum()) / n if n else 0.0
    return {"share": round(share, 5), "km2": round(share * overlap_km2, 4)}


def summary_line(clouds: dict[str, Any] | None) -> str | None:
    """One line for the CLI: ``clouds: before 2.1% (0.35 km2, s2cloudless-v0.1), after ...;
    lost 2.1% (0.35 km2) of the 16.80 km2 overlap``, or ``clouds: not checked (why)``."""
    if not clouds:
        return None
    dates = [clouds.get(name) or {} for name in ("before", "after")]
    if all(d.get("share") is None for d in dates) and dates[0].get("note") == dates[1].get("note"):
        return f"clouds: not checked ({dates[0].get('note', 'no cloud layer')})"
    parts = []
    for name, d in zip(("before", "after"), dates):
        if d.get("share") is None:
            parts.append(f"{name} not checked ({d.get('note', 'no cloud layer')})")
        else:
            src = d.get("layer") or d.get("source")
            parts.append(f"{name} {100 * d['share']:.1f}% ({d['km2']:.2f} km2, {src})")
    union = clouds.get("union") or {}
    lost = ("" if union.get("share") is None else
            f"; lost {100 * union['share']:.1f}% ({union['km2']:.2f} km2) of the "
            f"{clouds.get('overlap_km2', 0):.2f} km2 overlap")
    return "clouds: " + ", ".join(parts) + lost
