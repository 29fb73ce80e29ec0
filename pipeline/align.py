"""One grid for a pair of tiles, and reads of both tiles onto it, window by window.

The grid is the earlier tile's finest-band grid. A geographic grid (EPSG:4326, as OSCD ships
Sentinel-2) is reprojected to its UTM zone at about the native resolution in metres, so that
pixel areas are m2; the grid is then cropped to the overlap of both tiles' footprints.

Reads go through ``rasterio.vrt.WarpedVRT`` onto the grid: bilinear for reflectance (coarser
bands resample onto the finest grid), nearest for cloud layers. Values come back as float32
reflectance (DN / profile scale), NaN where the source is nodata or masked, cloudy, or outside
the source or the grid. ``valid`` is True where every requested role is finite.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window
from shapely.geometry import Polygon, box

from pipeline import settings
from pipeline.direct import grid_offset, read_decimated, read_window
from pipeline.errors import AlignmentError, SensorError
from pipeline.grid import Grid
from pipeline.i18n import msg
from pipeline.io.tiles import CLOUD_PROBABILITY_MIN, SCL_CLOUD_CLASSES, BandRef, Tile

if TYPE_CHECKING:
    from pipeline.clouds import CloudMask

BandArrays = dict[str, np.ndarray]


# --- the grid ---------------------------------------------------------------------------------

_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def _nice_resolution(metres: float) -> float:
    """Snap a pixel size to the nearest (in log terms) of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k:
    10.5 -> 10, 9.2 -> 10, 29 -> 30, 16 -> 15, 0.048 -> 0.05 (the sizes sensors are sold at)."""
    if metres <= 0 or not math.isfinite(metres):
        raise ValueError(f"bad resolution {metres}")
    exp = math.floor(math.log10(metres))
    mant = metres / 10**exp
    best = min(_NICE, key=lambda v: abs(math.log(v / mant)))
    return float(f"{best * 10**exp:.6g}")


def utm_crs_for(bounds: tuple[float, float, float, float], crs: CRS) -> CRS:
    """UTM zone (WGS 84) holding the centre of ``bounds`` given in ``crs``."""
    w, s, e, n = transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)
    infos = query_utm_crs_info(datum_name="WGS 84", area_of_interest=AreaOfInterest(w, s, e, n))
    if not infos:
        lon, lat = (w + e) / 2, (s + n) / 2
        return CRS.from_epsg((32600 if lat >= 0 else 32700) + int((lon + 180) // 6) % 60 + 1)
    centre = ((w + e) / 2, (s + n) / 2)
    zone = int((centre[0] + 180) // 6) % 60 + 1
    code = (32600 if centre[1] >= 0 else 32700) + zone
    codes = {int(i.code) for i in infos}
    return CRS.from_epsg(code if code in codes else int(infos[0].code))


def projected_grid(native: Grid) -> Grid:
    """A geographic grid reprojected to its UTM zone, square pixels of about the native size in
    metres (sqrt of the pixel's area in m2, snapped by :func:`_nice_resolution`: OSCD's
    Sentinel-2 10 m bands, stored at 0.0000898-0.000116 degrees, come out at 10 m), aligned to
    whole multiples of the pixel size."""
    dst = utm_crs_for(native.bounds, native.crs)
    to = Transformer.from_crs(ProjCRS.from_user_input(native.crs), ProjCRS.from_user_input(dst), always_xy=True)
    cx, cy = native.transform * (native.width / 2, native.height / 2)
    t = native.transform
    (x0, x1, x2), (y0, y1, y2) = to.transform([cx, cx + t.a, cx + t.b], [cy, cy + t.d, cy + t.e])
    dx, dy = math.hypot(x1 - x0, y1 - y0), math.hypot(x2 - x0, y2 - y0)
    res = _nice_resolution(math.sqrt(dx * dy))
    left, bottom, right, top = transform_bounds(native.crs, dst, *native.bounds, densify_pts=51)
    left, top = math.floor(left / res) * res, math.ceil(top / res) * res
    width, height = math.ceil((right - left) / res - 1e-6), math.ceil((top - bottom) / res - 1e-6)
    return Grid(dst, Affine(res, 0.0, left, 0.0, -res, top), width, height)


def footprint(grid: Grid, crs: CRS) -> Polygon:
    """The grid's outline (edges densified) in ``crs``."""
    outline = shapely.segmentize(box(*grid.bounds), max(grid.bounds[2] - grid.bounds[0], grid.bounds[3] - grid.bounds[1]) / 64)
    if CRS.from_user_input(crs) == grid.crs:
        return outline
    to = Transformer.from_crs(ProjCRS.from_user_input(grid.crs), ProjCRS.from_user_input(crs), always_xy=True)
    return shapely.make_valid(shapely.transform(outline, lambda xy: np.column_stack(to.transform(xy[:, 0], xy[:, 1]))))


def crop_grid(grid: Grid, bounds: tuple[float, float, float, float]) -> Grid:
    """The part of ``grid`` covering ``bounds`` (whole pixels, rounded outwards)."""
    inv = ~grid.transform
    cols, rows = zip(*(inv @ (x, y) for x in (bounds[0], bounds[2]) for y in (bounds[1], bounds[3])))
    c0, r0 = max(0, math.floor(min(cols) + 1e-6)), max(0, math.floor(min(rows) + 1e-6))
    c1, r1 = min(grid.width, math.ceil(max(cols) - 1e-6)), min(grid.height, math.ceil(max(rows) - 1e-6))
    win = Window(c0, r0, max(0, c1 - c0), max(0, r1 - r0))
    return Grid(grid.crs, grid.window_transform(win), int(win.width), int(win.height))


def _pair_source(before: Tile, after: Tile) -> str:
    return f"{before.path} and {after.path}"


def pair_grid(before: Tile, after: Tile, min_overlap: float = 0.2) -> Grid:
    """The grid both tiles are compared on (see module docstring).

    Overlap fraction = overlap area / the smaller footprint's area; refused with
    :class:`AlignmentError` when there is none or it is below ``min_overlap``.
    """
    base, other = (before, after) if before.acquired <= after.acquired else (after, before)
    grid = projected_grid(base.grid) if base.crs.is_geographic else base.grid
    fp_base, fp_other = footprint(base.grid, grid.crs), footprint(other.grid, grid.crs)
    inter = fp_base.intersection(fp_other)
    if inter.is_empty or inter.area <= 0:
        raise AlignmentError(_pair_source(before, after), msg("input.no_overlap"))
    fraction = inter.area / min(fp_base.area, fp_other.area)
    if fraction < min_overlap:
        raise AlignmentError(
            _pair_source(before, after),
            msg("input.small_overlap", fraction=f"{fraction:.1%}", minimum=f"{min_overlap:.0%}"),
        )
    out = crop_grid(grid, inter.bounds)
    if out.width == 0 or out.height == 0:
        raise AlignmentError(_pair_source(before, after), msg("input.no_overlap"))
    return out


# --- reading onto the grid ------------------------------------------------------------------------

def cloudy(values: np.ndarray, kind: str) -> np.ndarray:
    """Boolean cloud mask from a cloud layer read as float (NaN = no information = clear)."""
    with np.errstate(invalid="ignore"):
        if kind == "cloud_probability":
            return values >= CLOUD_PROBABILITY_MIN
        if kind == "scl":
            return np.isin(values, SCL_CLOUD_CLASSES)
        return values > 0


GDAL_CACHE_MB = settings.DEFAULT_GDAL_CACHE_MB
"""GDAL's block cache for landpatrol's reads (GDAL's own default is 5 % of the machine's memory,
over 1 GB on a 24 GB machine: most of a run's peak memory). Windows are read once, in order,
so a larger cache buys nothing. ``$GDAL_CACHEMAX`` (GDAL's own setting) or
``$LANDPATROL_GDAL_CACHE_MB`` override it."""
_cache_set = False


def limit_gdal_cache() -> None:
    """Set GDAL's block cache to :data:`GDAL_CACHE_MB` once per process (unless overridden)."""
    global _cache_set
    if _cache_set:
        return
    env = settings.load()
    if env.gdal_cachemax:
        return
    from rasterio.env import set_gdal_config

    mb = env.gdal_cache_mb
    set_gdal_config("GDAL_CACHEMAX", mb * 2**20)
    _cache_set = True


class TileReader:
    """Keeps a tile's datasets and WarpedVRTs on ``grid`` open across window reads.

    ``with TileReader(tile, grid, roles) as r: bands, valid = r.read(window, halo)``.
    Not thread-safe: use one reader per thread. ``clouds`` is a computed cloud mask on ``grid``
    (:func:`pipeline.clouds.compute_cloud_mask`), applied like the tile's own cloud layer.
    """

    def __init__(self, tile: Tile, grid: Grid, roles: Iterable[str] | None = None, use_cloud: bool = True,
                 clouds: CloudMask | None = None, direct: bool = True) -> None:
        limit_gdal_cache()
        if clouds is not None and clouds.grid != grid:
            raise ValueError("a computed cloud mask must be on the reader's grid")
        self.tile, self.grid, self._use_cloud_arg = tile, grid, use_cloud
        self.honours_clouds = use_cloud  # False: every cloud layer ignored on purpose
        self.clouds = clouds if use_cloud else None
        self.roles = tuple(roles) if roles is not None else tuple(tile.bands)
        missing = [r for r in self.roles if r not in tile.bands]
        if missing:
            raise SensorError(tile.path, f"sensor {tile.sensor} tile has no {', '.join(missing)} band")
        self.use_cloud = use_cloud and tile.cloud is not None
        self._stack: ExitStack | None = None
        self._datasets: dict[str, rasterio.DatasetReader] = {}
        self._vrts: dict[tuple, WarpedVRT] = {}
        self._samples: dict[int, tuple[BandArrays, np.ndarray]] = {}
        self._cloud_samples: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._offsets: dict[str, tuple[int, int] | None] = {}
        self.direct = direct  # False: every file through the warper (tests compare both)

    def fork(self) -> TileReader:
        """An independent reader of the same tile, grid and roles, for another thread."""
        return TileReader(self.tile, self.grid, self.roles, self._use_cloud_arg, self.clouds, self.direct)

    def __enter__(self) -> TileReader:
        self._stack = ExitStack()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._datasets, self._vrts, self._offsets = None, {}, {}, {}

    def _dataset(self, ref: BandRef) -> rasterio.DatasetReader:
        if self._stack is None:
            self._stack = ExitStack()
        src = self._datasets.get(str(ref.path))
        if src is None:
            src = self._datasets[str(ref.path)] = self._stack.enter_context(rasterio.open(ref.path))
        return src

    def _offset(self, refs: list[BandRef]) -> tuple[int, int] | None:
        """Where the grid starts in the file of ``refs`` if the file lies on the grid's pixels
        (read directly, :mod:`pipeline.direct`), else None (read through the warper)."""
        key = str(refs[0].path)
        if key not in self._offsets:
            self._offsets[key] = None if not self.direct else grid_offset(
                self._dataset(refs[0]), self.grid, sorted({r.index for r in self._refs_of(key)}))
        return self._offsets[key]

    def _refs_of(self, path: str) -> list[BandRef]:
        refs = [self.tile.bands[r] for r in self.roles]
        if self.use_cloud and self.tile.cloud is not None:
            refs.append(self.tile.cloud)
        return [r for r in refs if str(r.path) == path]

    def _by_file(self) -> list[tuple[list[str], list[BandRef]]]:
        """The roles read, grouped by the file holding them."""
        by_file: dict[str, list[str]] = {}
        for role in self.roles:
            by_file.setdefault(str(self.tile.bands[role].path), []).append(role)
        return [(roles, [self.tile.bands[r] for r in roles]) for roles in by_file.values()]

    def _nearest(self, refs: list[BandRef], coarse: Grid) -> np.ndarray:
        """Bands ``refs`` (of one file) decimated onto ``coarse`` by nearest neighbour (a
        whole-factor coarsening of the grid), ``(k, rows, cols)``: directly from the file when
        it lies on the grid, else by the warper. All bands of the file in one pass, so a
        pixel-interleaved file is decoded once, not once per band."""
        offset = self._offset(refs)
        indexes = [r.index for r in refs]
        if offset is None:
            return self._vrt(refs[0], coarse, Resampling.nearest).read(indexes)
        f = round(coarse.transform.a / self.grid.transform.a)
        return read_decimated(self._dataset(refs[0]), indexes, offset, self.grid, f, coarse.shape)

    def _vrt(self, ref: BandRef, grid: Grid, resampling: Resampling) -> WarpedVRT:
        key = (str(ref.path), grid.transform, grid.width, grid.height, resampling)
        if key not in self._vrts:
            src = self._dataset(ref)
            assert self._stack is not None
            self._vrts[key] = self._stack.enter_context(WarpedVRT(
                src, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height,
                resampling=resampling, dtype="float32", nodata=np.nan,
            ))
        return self._vrts[key]

    def _read_grid(self, grid: Grid, window: Window) -> tuple[BandArrays, np.ndarray]:
        out: BandArrays = {}
        for roles, refs in self._by_file():
            offset = self._offset(refs)
            if offset is not None and grid == self.grid:
                data = read_window(self._dataset(refs[0]), [r.index for r in refs], offset, window)
            else:
                data = self._vrt(refs[0], grid, Resampling.bilinear).read([r.index for r in refs], window=window)
            for role, ref, arr in zip(roles, refs, data):
                # ``data`` is this read's own float32 array: scaled in place (the same values)
                out[role] = np.divide(arr, np.float32(ref.scale), out=arr) if ref.scale != 1 else arr
        mask = self._cloudy(grid, window)
        if mask is not None:
            for arr in out.values():
                arr[mask] = np.nan
        valid = np.logical_and.reduce([np.isfinite(a) for a in out.values()])
        return out, valid

    def _cloudy(self, grid: Grid, window: Window | None = None) -> np.ndarray | None:
        """Cloud mask of ``window`` of ``grid`` (the whole of it when None) from the tile's own
        layer and the computed mask, or None when the reader applies neither."""
        mask = None
        if self.use_cloud:
            ref = self.tile.cloud
            assert ref is not None
            offset = self._offset([ref])
            if offset is not None and grid == self.grid and window is not None:
                layer = read_window(self._dataset(ref), [ref.index], offset, window)[0]
            elif offset is not None and grid != self.grid and window is None:  # a decimated sample
                layer = self._nearest([ref], grid)[0]
            else:
                layer = self._vrt(ref, grid, Resampling.nearest).read(ref.index, window=window)
            mask = cloudy(layer, ref.kind)
        if self.clouds is not None:
            if grid == self.grid:
                win = window if window is not None else Window(0, 0, grid.width, grid.height)
                computed = self.clouds.window(win)
            else:
                computed = self.clouds.on(grid)
            mask = computed if mask is None else (mask | computed)
        return mask

    def read(self, window: Window, halo: int = 0) -> tuple[BandArrays, np.ndarray]:
        """Bands on ``window`` of the grid grown by ``halo`` on each side; always shaped
        (h + 2*halo, w + 2*halo), NaN (and not valid) beyond the grid's edge."""
        c0, r0 = int(window.col_off) - halo, int(window.row_off) - halo
        h, w = int(window.height) + 2 * halo, int(window.width) + 2 * halo
        cc0, rr0 = max(c0, 0), max(r0, 0)
        cc1, rr1 = min(c0 + w, self.grid.width), min(r0 + h, self.grid.height)
        if (cc0, rr0, cc1, rr1) == (c0, r0, c0 + w, r0 + h):  # inside the grid: nothing to pad
            return self._read_grid(self.grid, Window(c0, r0, w, h))
        bands = {r: np.full((h, w), np.nan, np.float32) for r in self.roles}
        valid = np.zeros((h, w), bool)
        if cc1 > cc0 and rr1 > rr0:
            inner, ok = self._read_grid(self.grid, Window(cc0, rr0, cc1 - cc0, rr1 - rr0))
            sl = np.s_[rr0 - r0:rr1 - r0, cc0 - c0:cc1 - c0]
            for r in self.roles:
                bands[r][sl] = inner[r]
            valid[sl] = ok
        return bands, valid

    def sample(self, max_pixels: int = 1_000_000) -> tuple[BandArrays, np.ndarray]:
        """Decimated read of the whole grid (every f-th pixel, nearest) of at most ``max_pixels``."""
        if max_pixels not in self._samples:
            coarse = decimated_grid(self.grid, max_pixels)
            bands, has_data, mask = self._read_grid_nearest(coarse)
            self._samples[max_pixels] = (bands, has_data & ~mask)
            self._cloud_samples[max_pixels] = (has_data, mask & has_data)
        bands, valid = self._samples[max_pixels]
        return {k: v.copy() for k, v in bands.items()}, valid.copy()

    def sample_clouds(self, max_pixels: int = 1_000_000) -> tuple[np.ndarray, np.ndarray]:
        """(has data, cloudy) on the :meth:`sample` grid: data whatever the clouds, and where
        the reader's cloud layers mask it (for :func:`pipeline.clouds.cloud_loss`)."""
        self.sample(max_pixels)
        has_data, mask = self._cloud_samples[max_pixels]
        return has_data.copy(), mask.copy()

    def _read_grid_nearest(self, coarse: Grid) -> tuple[BandArrays, np.ndarray, np.ndarray]:
        # a coarse VRT with nearest resampling decimates instead of averaging the whole scene
        out: BandArrays = {}
        for roles, refs in self._by_file():
            for role, ref, arr in zip(roles, refs, self._nearest(refs, coarse)):
                out[role] = arr / np.float32(ref.scale) if ref.scale != 1 else arr
        has_data = np.logical_and.reduce([np.isfinite(a) for a in out.values()])
        mask = self._cloudy(coarse)
        if mask is not None:
            for arr in out.values():
                arr[mask] = np.nan
        else:
            mask = np.zeros(coarse.shape, bool)
        return out, has_data, mask


def decimated_grid(grid: Grid, max_pixels: int) -> Grid:
    """``grid`` coarsened by a whole factor so that it has at most ``max_pixels`` pixels."""
    f = max(1, math.ceil(math.sqrt(grid.width * grid.height / max(1, max_pixels))))
    return Grid(grid.crs, grid.transform @ Affine.scale(f), math.ceil(grid.width / f), math.ceil(grid.height / f))


def read_bands(
    tile: Tile, grid: Grid, window: Window, roles: Iterable[str], halo: int = 0
) -> tuple[BandArrays, np.ndarray]:
    """One window of ``tile`` on ``grid`` (opens and closes the files; prefer TileReader in loops)."""
    with TileReader(tile, grid, roles) as reader:
        return reader.read(window, halo)


def sample_bands(
    tile: Tile, grid: Grid, roles: Iterable[str], max_pixels: int = 1_000_000
) -> tuple[BandArrays, np.ndarray]:
    """Decimated read of the whole grid, for scene statistics."""
    with TileReader(tile, grid, roles) as reader:
        return reader.sample(max_pixels)


def sample_pair(before_reader: TileReader, after_reader: TileReader, max_pixels: int = 1_000_000,
                ) -> tuple[tuple[BandArrays, np.ndarray], tuple[BandArrays, np.ndarray]]:
    """Both readers' decimated samples (:meth:`TileReader.sample`), decoded at once on two
    threads (each reader has its own datasets). Each reader keeps its sample, so the scene
    fit's own calls read nothing again."""
    from pipeline.parallel import both

    return both(lambda: before_reader.sample(max_pixels), lambda: after_reader.sample(max_pixels))


def check_pair_valid(before_reader: TileReader, after_reader: TileReader, grid: Grid,
                     max_pixels: int = 1_000_000) -> float:
    """Fraction of the (decimated) grid valid on both dates; AlignmentError when none is.

    The default sample is the one the scene fit reads (``DetectParams.sample_pixels``): the
    reader keeps it, so checking costs no second pass over the files."""
    if before_reader.grid != grid or after_reader.grid != grid:
        raise ValueError("both readers must read onto the pair's grid")
    (_, vb), (_, va) = sample_pair(before_reader, after_reader, max_pixels)
    both = vb & va
    if not both.any():
        raise AlignmentError(
            _pair_source(before_reader.tile, after_reader.tile),
            "no valid pixels in the overlap (all nodata or cloud)",
        )
    return float(both.mean())
