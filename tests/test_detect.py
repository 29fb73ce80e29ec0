"""The windowed driver on synthetic pairs with planted changes, through an in-memory reader."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from models.cva import CVADetector
from pipeline.classes import ChangeClass
from pipeline.detect import BandReader, Detection, DetectParams, detect_pair
from pipeline.errors import AlignmentError, ConfigError, SensorError
from pipeline.grid import Grid
from pipeline.io.scoreraster import read_score
from pipeline.patches import PATCH_COLUMNS

ROLES = ("blue", "green", "red", "nir", "swir1", "swir2")
FARM = dict(blue=0.04, green=0.08, red=0.05, nir=0.35, swir1=0.18, swir2=0.09)
BUILDING = dict(blue=0.25, green=0.26, red=0.27, nir=0.30, swir1=0.32, swir2=0.28)
SOIL = dict(blue=0.08, green=0.12, red=0.17, nir=0.22, swir1=0.32, swir2=0.28)
WATER = dict(blue=0.06, green=0.07, red=0.05, nir=0.02, swir1=0.01, swir2=0.005)
RES = 10.0


def make_grid(h: int, w: int) -> Grid:
    return Grid(CRS.from_epsg(32650), Affine(RES, 0, 660000, 0, -RES, 3550000), w, h)


def make_pair(h=200, w=200, plants=(), seed=1, roles=ROLES):
    """Crops before; after = planted spectra in boxes, other radiometry (x/1.1 + 0.01) + noise."""
    rng = np.random.default_rng(seed)
    before, after = {}, {}
    for r in roles:
        base = np.full((h, w), FARM[r], np.float32)
        post = base.copy()
        for (r0, r1, c0, c1), spec in plants:
            post[r0:r1, c0:c1] = spec[r]
        before[r] = (base + rng.normal(0, 0.004, (h, w))).astype(np.float32)
        after[r] = ((post + rng.normal(0, 0.004, (h, w))) / 1.1 + 0.01).astype(np.float32)
    return before, after


class ArrayReader:
    """In-memory :class:`BandReader`: NaN-padded windows, strided samples, counts reads."""

    def __init__(self, bands: dict[str, np.ndarray], valid: np.ndarray | None = None) -> None:
        self.bands = bands
        shape = next(iter(bands.values())).shape
        self.valid = np.ones(shape, bool) if valid is None else valid
        self.reads: list[tuple[Window, int]] = []

    def read(self, window: Window, halo: int = 0):
        self.reads.append((window, halo))
        r0, c0 = int(window.row_off) - halo, int(window.col_off) - halo
        hh, ww = int(window.height) + 2 * halo, int(window.width) + 2 * halo
        H, W = self.valid.shape
        rs, cs = slice(max(r0, 0), min(r0 + hh, H)), slice(max(c0, 0), min(c0 + ww, W))
        dst = (slice(rs.start - r0, rs.stop - r0), slice(cs.start - c0, cs.stop - c0))
        out = {}
        for k, x in self.bands.items():
            o = np.full((hh, ww), np.nan, np.float32)
            o[dst] = np.where(self.valid[rs, cs], x[rs, cs], np.nan)
            out[k] = o
        v = np.zeros((hh, ww), bool)
        v[dst] = self.valid[rs, cs]
        return out, v

    def sample(self, max_pixels: int):
        step = max(1, math.ceil(math.sqrt(self.valid.size / max_pixels)))
        return ({k: np.where(self.valid, x, np.nan)[::step, ::step] for k, x in self.bands.items()},
                self.valid[::step, ::step])


def run(tmp_path: Path, before, after, h=200, w=200, valid=None, **params) -> Detection:
    grid = make_grid(h, w)
    return detect_pair(ArrayReader(before, valid), ArrayReader(after, valid), grid, CVADetector(),
                       tmp_path, DetectParams(**params))


def test_reader_fake_honours_protocol():
    b, _ = make_pair(20, 20)
    assert isinstance(ArrayReader(b), BandReader)


def test_new_building_is_one_patch_with_exact_area(tmp_path):
    b, a = make_pair(plants=[((40, 70, 100, 130), BUILDING)])
    det = run(tmp_path, b, a)
    p = det.patches
    assert tuple(p.columns) == PATCH_COLUMNS and len(p) == 1
    assert p.pixels.iloc[0] == 900
    assert abs(p.area_m2.iloc[0] - 900 * RES * RES) <= RES * RES
    assert p.change_class.iloc[0] == ChangeClass.CONSTRUCTION.key
    assert 0.5 < p.score_mean.iloc[0] <= p.score_max.iloc[0] <= 1.0
    assert det.stats.patches == 1 and det.stats.pixels_changed == 900
    assert det.stats.pixels_valid == 200 * 200
    x0, y0 = make_grid(200, 200).transform @ (100, 40)
    assert p.geometry.iloc[0].bounds == pytest.approx((x0, y0 - 300, x0 + 300, y0))


def test_rasters_written_as_expected(tmp_path):
    b, a = make_pair(plants=[((40, 70, 100, 130), BUILDING)])
    valid = np.ones((200, 200), bool)
    valid[:10, :] = False
    det = run(tmp_path, b, a, valid=valid, block_size=64)
    with rasterio.open(det.score_path) as src:
        assert src.driver == "GTiff" and src.dtypes[0] == "uint8" and src.crs.to_epsg() == 32650
        assert src.profile.get("tiled") and src.overviews(1) is not None
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.nodata == 255 and src.scales == (1 / 250,) and src.offsets == (0.0,)
        stored = src.read(1)
        score = read_score(src)
    assert np.all(stored[:10] == 255) and np.isnan(score[:10]).all()
    s = score[10:]
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(score[10:], stored[10:] / 250, rtol=1e-6)
    with rasterio.open(det.class_path) as src:
        cls = src.read(1)
    assert np.all(cls[40:70, 100:130] == ChangeClass.CONSTRUCTION)
    assert (cls > 0).sum() < 900 + 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["change_class.tif", "score.tif"]


def test_bare_soil_and_water_get_their_classes(tmp_path):
    b, a = make_pair(plants=[((20, 45, 20, 45), SOIL), ((120, 140, 150, 170), WATER)])
    p = run(tmp_path, b, a).patches
    assert list(p.change_class) == [ChangeClass.BARE_SOIL.key, ChangeClass.WATER.key]
    assert list(p.pixels) == [625, 400]


def test_unchanged_noise_gives_no_patch(tmp_path):
    b, a = make_pair(seed=7)
    det = run(tmp_path, b, a)
    assert len(det.patches) == 0 and tuple(det.patches.columns) == PATCH_COLUMNS
    assert det.stats.pixels_changed == 0


def test_window_invariance_and_straddling_patch(tmp_path):
    plants = [((50, 80, 50, 80), BUILDING), ((120, 150, 10, 40), SOIL), ((100, 130, 120, 160), WATER)]
    b, a = make_pair(plants=plants)
    small = run(tmp_path / "s", b, a, block_size=64)   # the building straddles rows/cols 64
    big = run(tmp_path / "b", b, a, block_size=1000)
    assert small.stats.windows == 16 and big.stats.windows == 1
    assert len(small.patches) == 3
    cols = [c for c in PATCH_COLUMNS if c != "geometry"]
    assert small.patches[cols].equals(big.patches[cols])
    assert all(g1.equals(g2) for g1, g2 in zip(small.patches.geometry, big.patches.geometry))
    assert small.patches.pixels.iloc[0] == 900
    with rasterio.open(small.score_path) as s1, rasterio.open(big.score_path) as s2:
        np.testing.assert_array_equal(s1.read(1), s2.read(1))
        # the stored score cut at the run's threshold is the flagged mask, rounding or not
        assert ((read_score(s1) > small.stats.threshold).sum() == small.stats.pixels_flagged)


def test_mmu_removes_small_change(tmp_path):
    plants = [((20, 22, 20, 22), BUILDING), ((60, 63, 60, 63), BUILDING)]
    b, a = make_pair(plants=plants)
    p = run(tmp_path / "a", b, a, opening_radius_px=0, min_area_m2=800).patches
    assert list(p.pixels) == [9]
    p = run(tmp_path / "b", b, a, opening_radius_px=0, min_area_m2=400).patches
    assert list(p.pixels) == [4, 9]
    # with the default opening (3x3 square) the 2x2 goes, the 3x3 stays
    assert list(run(tmp_path / "c", b, a).patches.pixels) == [9]


def test_mmu_pixels_floor():
    assert DetectParams().mmu_pixels(100.0) == 4        # 400 m2 at 10 m
    assert DetectParams().mmu_pixels(900.0) == 4        # Landsat: 4 px floor
    assert DetectParams(min_area_m2=5000).mmu_pixels(900.0) == 6
    assert DetectParams().mmu_pixels(1.0) == 400        # drone 1 m


def test_progress_and_threshold_override(tmp_path):
    b, a = make_pair(plants=[((40, 70, 100, 130), BUILDING)])
    calls = []
    grid = make_grid(200, 200)
    det = detect_pair(ArrayReader(b), ArrayReader(a), grid, CVADetector(), tmp_path,
                      DetectParams(block_size=100, threshold=0.1), progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert det.stats.threshold == 0.1
    assert det.stats.pixels_flagged > 900 + 5000  # noise flagged at this low threshold


@pytest.mark.parametrize("kw", [dict(threshold=1.5), dict(min_area_m2=-1), dict(block_size=4),
                                dict(opening_radius_px=-1)])
def test_bad_params(kw):
    with pytest.raises(ConfigError):
        DetectParams(**kw)


def test_missing_band_and_all_invalid(tmp_path):
    b, a = make_pair(40, 40)
    del a["blue"]
    with pytest.raises(SensorError):
        run(tmp_path, b, a, h=40, w=40)
    b, a = make_pair(40, 40)
    with pytest.raises(AlignmentError):
        run(tmp_path, b, a, h=40, w=40, valid=np.zeros((40, 40), bool))


def test_detect_pair_through_real_tile_reader(tmp_path):
    """Synthetic uint16 GeoTIFFs -> open_tile -> pair_grid -> TileReader -> detect_pair."""
    from pipeline.align import TileReader, pair_grid
    from pipeline.io.tiles import open_tile

    roles4 = ("blue", "green", "red", "nir")
    h, w = 160, 180
    b, a = make_pair(h, w, plants=[((40, 70, 100, 130), BUILDING)], roles=roles4)
    # the after tile starts 6 px further east (and is 6 px narrower): the grid is the overlap
    paths = {}
    for name, stack, x0, cols in (("before", b, 660000.0, slice(0, w)),
                                  ("after", a, 660000.0 + 6 * RES, slice(6, w))):
        data = np.stack([np.clip(stack[r][:, cols] * 10000, 0, 65535) for r in roles4]).astype(np.uint16)
        paths[name] = tmp_path / f"{name}.tif"
        with rasterio.open(paths[name], "w", driver="GTiff", width=data.shape[2], height=h, count=4,
                           dtype="uint16", crs="EPSG:32650",
                           transform=Affine(RES, 0, x0, 0, -RES, 3550000.0)) as dst:
            dst.write(data)
    before = open_tile(paths["before"], sensor="rgbn", acquired="2024-03-01")
    after = open_tile(paths["after"], sensor="rgbn", acquired="2024-06-01")
    grid = pair_grid(before, after)
    assert grid.shape == (h, w - 6) and grid.transform.c == 660000.0 + 6 * RES
    with TileReader(before, grid, roles4) as rb, TileReader(after, grid, roles4) as ra:
        det = detect_pair(rb, ra, grid, CVADetector(), tmp_path / "work", DetectParams(block_size=64))
    p = det.patches
    assert len(p) == 1 and p.pixels.iloc[0] == 900
    assert p.change_class.iloc[0] == ChangeClass.CONSTRUCTION.key
    x0, y0 = 660000.0 + 100 * RES, 3550000.0 - 40 * RES
    assert p.geometry.iloc[0].bounds == pytest.approx((x0, y0 - 300, x0 + 300, y0))
    assert det.stats.pixels_valid == h * (w - 6)


def test_threads_give_the_same_result_as_one_thread(tmp_path):
    """Windows on 2 threads (real TileReaders, forked per thread) == windows in one thread."""
    from pipeline.align import TileReader, pair_grid
    from pipeline.io.tiles import open_tile
    from tests.scenes import make_scene

    scene = make_scene(tmp_path / "scene")
    before, after = open_tile(scene.before), open_tile(scene.after)
    grid = pair_grid(before, after)
    roles = ("blue", "green", "red", "nir")
    out = {}
    for workers in (1, 2):
        with TileReader(before, grid, roles) as rb, TileReader(after, grid, roles) as ra:
            det = detect_pair(rb, ra, grid, CVADetector(), tmp_path / f"w{workers}",
                              DetectParams(block_size=64, workers=workers))
        with rasterio.open(det.score_path) as ds:
            out[workers] = (ds.read(1), det.patches)
    assert np.array_equal(out[1][0], out[2][0])
    assert out[1][1].geometry.geom_equals(out[2][1].geometry).all() and len(out[2][1]) == 3
