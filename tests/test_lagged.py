"""A per-pixel detector's windows, read once and cleaned a window row later (pipeline/lagged.py),
give the patches and rasters of the one-pass driver that reads each window with its halo."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from models.base import ChangeMap
from pipeline.detect import DetectParams, detect_pair
from pipeline.lagged import Flagged, _paste

RES = 10.0
ROLES = ("blue", "green", "red", "nir")


class RedScore:
    """Per pixel: the score is the before date's red band (so a test draws the flagged mask),
    the class cycles with the after date's red band."""

    name, version, threshold, thread_safe = "red", "1", 0.5, True
    required_roles = frozenset(ROLES)
    halo = 0

    def fit_scene(self, before, after, valid):
        return {}

    def detect(self, before, after, valid, scene):
        score = np.where(valid, np.clip(before["red"], 0, 1), 0).astype(np.float32)
        cls = (1 + (np.nan_to_num(after["red"]) * 1000).astype(np.int64) % 5).astype(np.uint8)
        return ChangeMap(score=score, change_class=cls)


class RedScoreWithHalo(RedScore):
    """The same values, read with a halo: the one-pass driver."""

    halo = 1


def _tiles(tmp_path: Path, seed: int, h: int = 203, w: int = 217):
    from pipeline.align import pair_grid
    from pipeline.io.tiles import open_tile

    rng = np.random.default_rng(seed)
    red = np.full((h, w), 0.1, np.float32)
    # blobs of every size, many across the edges of 32 / 50 / 64 px windows; thin lines and
    # specks that the opening removes; a diagonal touch across a window corner
    for _ in range(60):
        r, c = rng.integers(0, h), rng.integers(0, w)
        hh, ww = rng.integers(1, 25, 2)
        red[r:r + hh, c:c + ww] = rng.uniform(0.55, 0.95)
    red[100:102, :] = 0.9
    for corner in (32, 50, 64, 128, 150):  # squares centred on window corners: the opening
        red[corner - 3:corner + 3, corner - 3:corner + 3] = 0.7  # there needs all four windows
    red[62:64, 62:64] = 0.9
    red[64:70, 64:70] = 0.8
    red[rng.random((h, w)) < 0.01] = 0.99
    nodata = np.zeros((h, w), bool)
    nodata[150:170, 20:60] = True  # a hole where neither date is valid
    paths = {}
    for name, values in (("before", red), ("after", rng.uniform(0, 1, (h, w)).astype(np.float32))):
        data = np.stack([np.full((h, w), 0.2, np.float32)] * 2 + [values, np.full((h, w), 0.3, np.float32)])
        dn = np.clip(data * 10000, 1, 65535).astype(np.uint16)
        dn[:, nodata] = 0
        paths[name] = tmp_path / f"{name}_{seed}.tif"
        with rasterio.open(paths[name], "w", driver="GTiff", width=w, height=h, count=4, dtype="uint16",
                           crs="EPSG:32650", nodata=0, tiled=True, blockxsize=32, blockysize=32,
                           transform=Affine(RES, 0, 660000.0, 0, -RES, 3550000.0)) as dst:
            dst.write(dn)
    before = open_tile(paths["before"], sensor="rgbn", acquired="2024-03-01")
    after = open_tile(paths["after"], sensor="rgbn", acquired="2024-06-01")
    return before, after, pair_grid(before, after)


def _run(tmp_path: Path, before, after, grid, detector, **params):
    from pipeline.align import TileReader

    with TileReader(before, grid, ROLES) as rb, TileReader(after, grid, ROLES) as ra:
        det = detect_pair(rb, ra, grid, detector, tmp_path, DetectParams(**params))
    with rasterio.open(det.score_path) as s, rasterio.open(det.class_path) as c:
        return det, s.read(1), c.read(1)


@pytest.mark.parametrize("block", [32, 50, 64, 1000])
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("radius", [1, 2])
def test_lagged_windows_equal_the_one_pass_driver(tmp_path: Path, block: int, workers: int, radius: int) -> None:
    before, after, grid = _tiles(tmp_path, seed=block + radius)
    kw = dict(block_size=block, workers=workers, opening_radius_px=radius, threshold=0.5)
    lag, s1, c1 = _run(tmp_path / "lag", before, after, grid, RedScore(), **kw)
    one, s2, c2 = _run(tmp_path / "one", before, after, grid, RedScoreWithHalo(), **kw)
    assert len(one.patches) > 10
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(c1, c2)
    a, b = lag.patches, one.patches
    assert len(a) == len(b)
    assert a.geometry.geom_equals(b.geometry).all()
    for col in ("pixels", "score_mean", "score_max", "change_class"):
        assert a[col].tolist() == b[col].tolist(), col
    assert lag.stats.pixels_valid == one.stats.pixels_valid
    assert lag.stats.pixels_flagged == one.stats.pixels_flagged


def test_lagged_windows_do_not_depend_on_the_window(tmp_path: Path) -> None:
    before, after, grid = _tiles(tmp_path, seed=7)
    runs = [_run(tmp_path / str(b), before, after, grid, RedScore(), block_size=b)[0].patches
            for b in (40, 64, 203)]
    for other in runs[1:]:
        assert len(other) == len(runs[0])
        assert other.geometry.geom_equals(runs[0].geometry).all()


def test_paste_takes_only_the_pixels_inside_the_box() -> None:
    flagged = np.zeros((4, 5), bool)
    flagged[0, 0] = flagged[3, 4] = flagged[2, 1] = True
    f = Flagged.of(Window(10, 20, 5, 4), flagged, np.ones((4, 5), np.float32), np.ones((4, 5), np.uint8))
    out = _paste(Window(11, 21, 6, 6), (6, 6), [f])  # the box starts one pixel in, runs past
    assert sorted(zip(*np.nonzero(out))) == [(1, 0), (2, 3)]
