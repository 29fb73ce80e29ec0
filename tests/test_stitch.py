"""Windowed patches (pipeline.stitch) == the whole-scene result, patch for patch, any window size."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS
from scipy import ndimage

from models.cva import CVADetector
from pipeline.classes import ChangeClass
from pipeline.detect import DetectParams, detect_pair
from pipeline.grid import Grid
from pipeline.io.scoreraster import SCORE_SCALE, read_score
from pipeline.patches import clean_mask, label_patches, remove_small, vectorise
from pipeline.stitch import N_CLASSES, patches_by_window
from tests.test_detect import BUILDING, SOIL, WATER, ArrayReader, make_pair


def _grid(h: int, w: int) -> Grid:
    return Grid(CRS.from_epsg(32650), Affine(10.0, 0, 660000, 0, -10.0, 3550000), w, h)


def _whole_scene(flagged, score, cls, grid, radius, mmu):
    """The reference: clean-up, MMU, labels and polygons on the whole mask at once."""
    mask = remove_small(clean_mask(flagged, radius), mmu)
    labels, n = label_patches(mask)
    geoms = list(vectorise(labels, grid).geometry)
    sel = labels > 0
    ids = labels[sel]
    pixels = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    ssum = np.bincount(ids, weights=score[sel].astype(np.float64), minlength=n + 1)[1:]
    smax = np.full(n + 1, -np.inf)
    np.maximum.at(smax, ids, score[sel].astype(np.float64))
    counts = np.bincount(ids * N_CLASSES + cls[sel].astype(np.int64),
                         minlength=(n + 1) * N_CLASSES).reshape(n + 1, N_CLASSES)[1:, 1:]
    majority = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1) + 1, int(ChangeClass.OTHER))
    return geoms, {"pixels": pixels, "score_mean": ssum / np.maximum(pixels, 1),
                   "score_max": smax[1:], "change_class": majority}


def assert_same(ref, got):
    (g0, s0), (g1, s1) = ref, got
    assert len(g1) == len(g0)
    np.testing.assert_array_equal(s1["pixels"], s0["pixels"])
    np.testing.assert_allclose(s1["score_mean"], s0["score_mean"], rtol=1e-12)
    np.testing.assert_array_equal(s1["score_max"], s0["score_max"])
    np.testing.assert_array_equal(s1["change_class"], s0["change_class"])
    a0, a1 = np.asarray(g0, object), np.asarray(g1, object)
    # the same vertices, not just the same point set
    assert shapely.equals_exact(shapely.normalize(a0), shapely.normalize(a1), 0).all()
    assert [g.geom_type for g in g0] == [g.geom_type for g in g1]


def _scene():
    """Block 50 on 200 x 200: patches crossing one, two and four window edges, and more."""
    m = np.zeros((200, 200), bool)
    m[40:60, 10:30] = True        # one edge (row 50)
    m[110:125, 30:120] = True     # two edges (cols 50 and 100)
    m[140:160, 140:160] = True    # four windows around the corner (150, 150)
    # a U whose arms are two pieces in the window above and join in the one below
    m[5:48, 60:66] = True
    m[5:48, 80:86] = True
    m[44:56, 60:86] = True
    # a ring across the edge at col 150 (a hole in one patch)
    m[60:90, 135:165] = True
    m[70:80, 145:155] = False
    # two squares that touch only diagonally at a window corner (8-connected: one patch)
    m[47:50, 97:100] = True
    m[50:53, 100:103] = True
    # a speck on an edge, dropped by the opening
    m[99:101, 175] = True
    rng = np.random.default_rng(3)
    return m, rng.random(m.shape).astype(np.float32), rng.integers(0, N_CLASSES, m.shape).astype(np.uint8)


@pytest.mark.parametrize("radius,mmu", [(0, 1), (1, 4), (1, 400), (2, 30)])
@pytest.mark.parametrize("block", [16, 50, 64, 1000])
def test_patches_crossing_one_two_and_four_window_edges(radius, mmu, block):
    m, score, cls = _scene()
    grid = _grid(*m.shape)
    ref = _whole_scene(m, score, cls, grid, radius, mmu)
    if radius == 1 and mmu == 4:
        assert len(ref[0]) == 6  # the diagonal pair is one patch, the speck is gone
        assert sum(g.geom_type == "MultiPolygon" for g in ref[0]) == 1
    assert_same(ref, patches_by_window(m, score, cls, grid, radius, mmu, block))


@pytest.mark.parametrize("seed", range(6))
def test_random_blobs_any_window_size(seed):
    rng = np.random.default_rng(seed)
    h, w = 157, 211
    m = ndimage.binary_dilation(rng.random((h, w)) < 0.01, iterations=int(rng.integers(2, 5)))
    m |= rng.random((h, w)) < 0.05
    score = rng.random((h, w)).astype(np.float32)
    cls = rng.integers(0, N_CLASSES, (h, w)).astype(np.uint8)
    radius, mmu = seed % 2, [1, 4, 9, 25, 3, 12][seed]
    grid = _grid(h, w)
    ref = _whole_scene(m, score, cls, grid, radius, mmu)
    assert len(ref[0]) >= 1
    for block in (16, 17, 33, 100):
        assert_same(ref, patches_by_window(m, score, cls, grid, radius, mmu, block))


def test_detect_pair_equals_whole_scene_on_its_own_rasters(tmp_path):
    """detect_pair's windowed patches == the whole-scene pass over the rasters it wrote."""
    plants = [((40, 75, 50, 80), BUILDING), ((120, 150, 10, 40), SOIL),
              ((100, 135, 120, 165), WATER), ((60, 66, 150, 190), BUILDING)]
    b, a = make_pair(plants=plants, seed=5)
    grid = _grid(200, 200)
    params = DetectParams(block_size=64, threshold=0.3)
    det = detect_pair(ArrayReader(b), ArrayReader(a), grid, CVADetector(), tmp_path, params)
    with rasterio.open(det.score_path) as s, rasterio.open(det.class_path) as c:
        score, cls = read_score(s), c.read(1)
    flagged = score > 0.3  # the stored steps keep the cut exact; NaN (not valid) compares False
    geoms, stats = _whole_scene(flagged, score, cls, grid, params.opening_radius_px,
                                params.mmu_pixels(grid.pixel_area))
    p = det.patches
    assert len(p) == len(geoms) >= 4
    np.testing.assert_array_equal(p.pixels, stats["pixels"])
    # the patches' means come from the detector's float32 scores, the file's from its steps
    np.testing.assert_allclose(p.score_mean, stats["score_mean"], atol=SCORE_SCALE)
    assert shapely.equals_exact(shapely.normalize(np.asarray(geoms, object)),
                                shapely.normalize(p.geometry.values), 0).all()
    assert det.stats.pixels_flagged == int(flagged.sum())


def test_pieces_traced_on_many_threads_raise_no_georeferencing_warning():
    # rasterio's shapes() hides a warning with warnings.catch_warnings, which leaks when
    # several threads trace at once; window_pieces takes turns at tracing, so nothing reaches
    # the analyst's terminal (without the lock this warned in ~every run of this test)
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.windows import Window

    from pipeline.stitch import window_pieces

    rng = np.random.default_rng(3)
    flagged = np.zeros((130, 130), bool)
    for r, c in rng.integers(0, 120, (60, 2)):
        flagged[r:r + 6, c:c + 6] = True
    score, cls = np.ones((130, 130), np.float32), np.ones((130, 130), np.uint8)

    def run(k: int) -> int:
        win = Window(130 * (k % 4) + 1, 130 * (k // 4) + 1, 130, 130)
        return sum(len(window_pieces(flagged, (slice(None), slice(None)), win, score, cls,
                                     (2000, 2000), 1, 4).geoms) for _ in range(20))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(4) as pool:
            assert all(n > 0 for n in pool.map(run, range(8)))
    assert not [w for w in caught if issubclass(w.category, NotGeoreferencedWarning)]
