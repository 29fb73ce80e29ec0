"""The windowed driver: two band readers + a detector -> score/class rasters and patches.

Memory is flat in scene size: bounded by a few windows of bands (one batch per thread), the
patches found so far and GDAL's block cache. No array of the whole scene is held. Each window
is detected, cleaned (opening, with the halo it needs), labelled, traced and measured on its
own (:mod:`pipeline.stitch`); patches that cross window edges are joined afterwards, so the
result does not depend on ``block_size``. The score (0..1 in steps of 1/250,
:mod:`pipeline.io.scoreraster`) and class rasters (both uint8) are written window by window to
tiled GeoTIFFs in ``workdir``.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.shutil
from rasterio.errors import RasterioError
from rasterio.windows import Window

from models.base import BandStack, Detector, window_halo, window_px, window_thread_safe
from pipeline.coreg import estimate_stack_shift
from pipeline.errors import AlignmentError, ConfigError, OutputError, SensorError
from pipeline.grid import Grid
from pipeline.i18n import msg
from pipeline.io import scoreraster
from pipeline.lagged import Flagged, lagged_pieces
from pipeline.parallel import default_workers, map_windows
from pipeline.patches import patch_frame
from pipeline.stitch import Pieces, Stitcher, cleanup_halo, grown, window_pieces

SCORE_FILE = "score.tif"
CLASS_FILE = "change_class.tif"


@runtime_checkable
class BandReader(Protocol):
    """One tile's bands on the pair grid (``pipeline.align.TileReader`` is the real one)."""

    def read(self, window: Window, halo: int = 0) -> tuple[BandStack, np.ndarray]:
        """Bands and valid mask of ``window`` grown by ``halo`` on each side, NaN-padded outside
        the grid (shape ``(h + 2 halo, w + 2 halo)``)."""
        ...

    def sample(self, max_pixels: int) -> tuple[BandStack, np.ndarray]:
        """A regular decimation of the whole grid with at most ``max_pixels`` pixels; two readers
        on one grid must return the same pixel positions."""
        ...


@dataclass(frozen=True)
class DetectParams:
    """Parameters of one detection run.

    ``min_area_m2`` (minimum mapping unit) defaults to 400 m2 (0.6 mu): about the footprint of
    a rural house or a shed, the smallest thing a land-enforcement team acts on, and 4 pixels of
    Sentinel-2 at 10 m, the fewest from which a patch is more than noise. The effective MMU is
    ``max(min_area_m2, min_pixels * pixel_area)``: a coarser sensor cannot resolve 400 m2 (one
    Landsat 30 m pixel is already 900 m2). ``opening_radius_px`` (square footprint ``2r+1``)
    removes specks and 1-2 px wide misregistration edges before the MMU. ``threshold`` None
    means the detector's own default; a pixel is changed where ``score > threshold``.
    ``block_size`` None means the detector's window (:func:`models.base.window_px`); results
    do not depend on it.
    """

    threshold: float | None = None
    min_area_m2: float = 400.0
    min_pixels: int = 4
    block_size: int | None = None
    opening_radius_px: int = 1
    sample_pixels: int = 1_000_000
    workers: int = field(default_factory=default_workers)  # threads, for thread-safe detectors

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 <= self.threshold < 1.0:
            raise ConfigError("--threshold", msg("input.threshold_range", value=self.threshold))
        if not (self.min_area_m2 >= 0 and math.isfinite(self.min_area_m2)):
            raise ConfigError("--min-area", msg("input.min_area_range", value=self.min_area_m2))
        if self.min_pixels < 1:
            raise ConfigError("min_pixels", msg("input.min_pixels_range", value=self.min_pixels))
        if self.block_size is not None and self.block_size < 16:
            raise ConfigError("--block-size", msg("input.block_size_range", value=self.block_size))
        if self.opening_radius_px < 0:
            raise ConfigError("opening_radius_px", msg("input.at_least", value=self.opening_radius_px, minimum=0))
        if self.workers < 1:
            raise ConfigError("workers", msg("input.at_least", value=self.workers, minimum=1))
        if self.sample_pixels < 1000:
            raise ConfigError("sample_pixels", msg("input.at_least", value=self.sample_pixels, minimum=1000))

    def mmu_pixels(self, pixel_area: float) -> int:
        """Smallest patch kept, in pixels, on a grid with ``pixel_area`` m2 pixels."""
        return max(self.min_pixels, math.ceil(self.min_area_m2 / pixel_area - 1e-9))


@dataclass(frozen=True)
class DetectStats:
    pixels_valid: int       # valid on both dates
    pixels_flagged: int     # score > threshold, before clean-up
    pixels_changed: int     # in the final patches
    patches: int
    threshold: float
    mmu_pixels: int
    windows: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Detection:
    patches: gpd.GeoDataFrame   # pipeline.patches.PATCH_COLUMNS, grid CRS
    score_path: Path            # COG, 0..1 in uint8 steps (pipeline.io.scoreraster.read_score)
    class_path: Path            # tiled GeoTIFF, uint8 ChangeClass where score > threshold
    scene: dict[str, Any]       # detector.fit_scene output (JSON-serialisable)
    stats: DetectStats


def _source(reader: object) -> str | None:
    tile = getattr(reader, "tile", None)
    path = getattr(tile, "path", None) or getattr(reader, "path", None)
    return None if path is None else str(path)


def _profile(grid: Grid, dtype: str, nodata: float | int | None, compress: str | None) -> dict[str, Any]:
    extra = {} if compress is None else {"compress": compress}
    return dict(driver="GTiff", width=grid.width, height=grid.height, count=1, dtype=dtype,
                crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True,
                blockxsize=256, blockysize=256, BIGTIFF="IF_SAFER", **extra)


SHIFT_WINDOW = 1024
"""Side of the central full-resolution window the sub-pixel shift is estimated on."""


def full_resolution_shift(before: BandReader, after: BandReader, grid: Grid,
                          size: int = SHIFT_WINDOW) -> tuple[float, float]:
    """Shift of the after date onto the before date, by phase correlation on a central
    ``size``-square window read at full resolution (``read(window, 0)``)."""
    h, w = min(size, grid.height), min(size, grid.width)
    win = Window((grid.width - w) // 2, (grid.height - h) // 2, w, h)
    b, vb = before.read(win, 0)
    a, va = after.read(win, 0)
    ok = np.asarray(vb, bool) & np.asarray(va, bool)
    common = [r for r in b if r in a]
    bb = {r: np.where(ok, b[r], np.nan) for r in common}
    aa = {r: np.where(ok, a[r], np.nan) for r in common}
    return estimate_stack_shift(bb, aa)


def fit_scene(before: BandReader, after: BandReader, detector: Detector,
              max_pixels: int, grid: Grid | None = None) -> dict[str, Any]:
    """Fit the detector's scene parameters on both readers' decimated samples.

    A detector that co-registers (its scene has a ``shift``) estimated it on the decimated
    sample, in decimated pixels; with ``grid`` given it is replaced by
    :func:`full_resolution_shift`, the shift in grid pixels that ``detect`` applies.
    """
    sb, vb = before.sample(max_pixels)
    sa, va = after.sample(max_pixels)
    for reader, bands in ((before, sb), (after, sa)):
        missing = sorted(detector.required_roles - set(bands))
        if missing:
            raise SensorError(_source(reader), msg("input.bands_for_detector", bands=", ".join(missing),
                                                   detector=repr(detector.name)))
    valid = np.asarray(vb, bool) & np.asarray(va, bool)
    if not valid.any():
        raise AlignmentError(_source(after), msg("input.no_valid_pixels"))
    scene = detector.fit_scene(sb, sa, valid)
    if grid is not None and "shift" in scene:
        dy, dx = full_resolution_shift(before, after, grid)
        scene["shift"] = [float(dy), float(dx)]
    return scene


def _detect_windows(before: BandReader, after: BandReader, grid: Grid, detector: Detector,
                    scene: Mapping[str, Any], threshold: float, params: DetectParams,
                    score_tmp: Path, class_path: Path,
                    progress: Callable[[int, int], None] | None) -> tuple[Stitcher, int, int, int]:
    """Detect, clean, label and trace window by window; write score and class rasters.

    Each window is read with the detector's halo plus the clean-up's (:func:`cleanup_halo`),
    so its opening sees the flagged pixels next door; a per-pixel detector's windows are read
    without halo and cleaned a window row later instead (:mod:`pipeline.lagged`). The pieces
    go to a :class:`Stitcher`.
    The score goes to an uncompressed tiled temporary in uint8 steps (:func:`scoreraster.encode`,
    the run's cut kept exact; deflating it twice, here and in the COG copy, would double the
    copy's work); the class raster is deflated.
    """
    radius, mmu = params.opening_radius_px, params.mmu_pixels(grid.pixel_area)
    extra = cleanup_halo(radius)
    block = params.block_size or window_px(detector, scene)
    det_halo, total = window_halo(detector, scene), grid.n_blocks(block)
    try:
        dst_s = rasterio.open(score_tmp, "w", **_profile(grid, scoreraster.SCORE_DTYPE,
                                                         scoreraster.SCORE_NODATA, None))
        dst_s.scales, dst_s.offsets = (scoreraster.SCORE_SCALE,), (0.0,)
        dst_s.descriptions = (scoreraster.BAND_DESCRIPTION,)
        # deflated on GDAL's threads as blocks fill, not in the thread that writes the windows
        dst_c = rasterio.open(class_path, "w", **_profile(grid, "uint8", None, "deflate"),
                              NUM_THREADS=str(max(1, params.workers)))
    except (RasterioError, OSError) as exc:
        raise OutputError(score_tmp.parent, msg("input.cannot_write_rasters", detail=str(exc))) from None

    def detect_grown(rb: BandReader, ra: BandReader, win: Window, pad: int) -> tuple[
            tuple[slice, slice], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Score, class (of the flagged pixels, 0 elsewhere), valid and flagged pixels of ``win``
        grown by ``pad`` (clipped to the grid), read with the detector's halo around that; and
        where ``win`` lies in it."""
        b, vb = rb.read(win, det_halo + pad)
        a, va = ra.read(win, det_halo + pad)
        both = np.asarray(vb, bool) & np.asarray(va, bool)
        change = detector.detect(b, a, both, scene)
        big, inner = grown(win, pad, grid.shape)
        r0 = int(big.row_off) - int(win.row_off) + det_halo + pad
        c0 = int(big.col_off) - int(win.col_off) + det_halo + pad
        part = (slice(r0, r0 + int(big.height)), slice(c0, c0 + int(big.width)))
        score = np.asarray(change.score[part], np.float32)
        valid = both[part]
        flagged = valid & (score > threshold)
        wanted = np.zeros(np.shape(change.score), bool)
        wanted[part] = flagged
        # the class of the flagged pixels only (0 elsewhere): the rest would be thrown away
        return inner, score, change.class_where(wanted)[part], valid, flagged

    def stored(score: np.ndarray, cls: np.ndarray, valid: np.ndarray, flagged: np.ndarray) -> Any:
        """What the caller writes and counts of one window (encoded on the window's thread)."""
        return (scoreraster.encode(score, valid, threshold), cls, int(valid.sum()), int(flagged.sum()))

    def one(rb: BandReader, ra: BandReader, win: Window) -> tuple[Window, Any, Pieces]:
        inner, score, classes, valid, flagged = detect_grown(rb, ra, win, extra)
        cls = classes[inner]
        pieces = window_pieces(flagged, inner, win, score[inner], cls, grid.shape, radius, mmu)
        return win, stored(score[inner], cls, valid[inner], flagged[inner]), pieces

    def detected_only(rb: BandReader, ra: BandReader, win: Window) -> tuple[Window, Any, Flagged]:
        _, score, cls, valid, flagged = detect_grown(rb, ra, win, 0)
        return win, stored(score, cls, valid, flagged), Flagged.of(win, flagged, score, cls)

    workers = params.workers if window_thread_safe(detector, scene) else 1
    windows = list(grid.blocks(block))
    # a per-pixel detector needs no bands around a window, only its neighbours' flagged pixels:
    # detect without halo, clean a window row later (pipeline/lagged.py), each pixel read once
    lagged = det_halo == 0 and 0 < extra <= block
    stitcher, counts = Stitcher(grid, mmu), [0, 0]

    def written(results: Iterator[tuple[Window, Any, Any]]) -> Iterator[Any]:
        for win, (score, cls, n_valid, n_flagged), rest in results:
            counts[0] += n_valid
            counts[1] += n_flagged
            dst_s.write(score, 1, window=win)
            dst_c.write(cls, 1, window=win)
            yield rest

    with dst_s, dst_c:
        if lagged:
            pieces_seq: Iterator[Pieces] = lagged_pieces(
                written(map_windows(windows, before, after, detected_only, workers)), windows,
                grid.shape, radius, mmu, extra, workers)
        else:
            pieces_seq = written(map_windows(windows, before, after, one, workers))
        for i, pieces in enumerate(pieces_seq):
            stitcher.add(pieces)
            if progress is not None:
                progress(i + 1, total)
    return stitcher, counts[0], counts[1], total


def detect_pair(
    before: BandReader,
    after: BandReader,
    grid: Grid,
    detector: Detector,
    workdir: Path,
    params: DetectParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Detection:
    """Detect changes between two readers on ``grid``; write rasters to ``workdir``.

    ``progress(done, total)`` is called after each detection window. Writes
    ``workdir/score.tif`` (COG) and ``workdir/change_class.tif``; nothing else is left there.
    Raises :class:`SensorError` when a reader lacks the detector's bands,
    :class:`AlignmentError` when no pixel is valid on both dates, :class:`OutputError` when
    ``workdir`` cannot be written.
    """
    t0 = time.perf_counter()
    params = params or DetectParams()
    workdir = Path(workdir)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(workdir, msg("input.cannot_create_workdir", detail=str(exc.strerror or exc))) from None
    threshold = detector.threshold if params.threshold is None else params.threshold
    scene = fit_scene(before, after, detector, params.sample_pixels, grid)

    score_tmp, score_path, class_path = (workdir / ".score.tmp.tif", workdir / SCORE_FILE,
                                         workdir / CLASS_FILE)
    stitcher, n_valid, n_flagged, n_windows = _detect_windows(
        before, after, grid, detector, scene, threshold, params, score_tmp, class_path, progress)
    mmu = stitcher.mmu
    geoms, stats = stitcher.finish()
    n, n_changed = len(geoms), int(stats["pixels"].sum())
    patches = patch_frame(geoms, stats, grid)

    try:
        # zlib level 1 and no predictor: on a Sentinel-2 tile's score the default level 6 or
        # the horizontal predictor gain nothing (114 MB either way) at 1.1-1.3x the time
        rasterio.shutil.copy(score_tmp, score_path, driver="COG", COMPRESS="DEFLATE", LEVEL=1,
                             PREDICTOR="NO", BLOCKSIZE=512, OVERVIEW_RESAMPLING="AVERAGE",
                             NUM_THREADS="ALL_CPUS")
    except (RasterioError, OSError) as exc:
        raise OutputError(score_path, msg("input.cannot_write_score", detail=str(exc))) from None
    finally:
        score_tmp.unlink(missing_ok=True)

    stats_out = DetectStats(
        pixels_valid=n_valid, pixels_flagged=n_flagged, pixels_changed=n_changed, patches=n,
        threshold=float(threshold), mmu_pixels=mmu, windows=n_windows,
        seconds=time.perf_counter() - t0,
    )
    return Detection(patches=patches, score_path=score_path, class_path=class_path,
                     scene=scene, stats=stats_out)
