"""Files on the pair grid are read directly (pipeline.direct), value for value as the warper reads them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_raster
from rasterio.transform import from_origin
from rasterio.windows import Window

from pipeline import direct
from pipeline.align import TileReader, decimated_grid, pair_grid
from pipeline.io.tiles import open_tile

UTM = "EPSG:32650"


def _tile(path: Path, arr: np.ndarray, x0: float = 600000, y0: float = 3500000, **kw: object):
    return open_tile(write_raster(path, arr, UTM, from_origin(x0, y0, 10, 10), **kw))


def _pair(tmp_path: Path, dtype: str = "uint16", nodata: float | None = 0, shift: tuple[int, int] = (3, 5)):
    rng = np.random.default_rng(7)
    if dtype == "float32":
        a = rng.uniform(0.01, 0.6, (4, 150, 170)).astype(np.float32)
        b = rng.uniform(0.01, 0.6, (4, 150, 170)).astype(np.float32)
        fill = np.nan if nodata is None else nodata
    else:
        hi = 250 if dtype == "uint8" else 4000
        a = rng.integers(1, hi, (4, 150, 170)).astype(dtype)
        b = rng.integers(1, hi, (4, 150, 170)).astype(dtype)
        fill = nodata
    if fill is not None:
        a[:, 10:30, 40:90] = fill    # nodata holes, one across a window edge
        b[:, 100:, :12] = fill
    dy, dx = shift  # the later tile is offset by whole pixels: the grid is a crop of both
    ta = _tile(tmp_path / "a_2020-01-01.tif", a, nodata=nodata, tiled=True, blockxsize=32, blockysize=32)
    tb = _tile(tmp_path / "b_2021-01-01.tif", b, x0=600000 + 10 * dx, y0=3500000 - 10 * dy, nodata=nodata)
    return ta, tb


@pytest.mark.parametrize("dtype,nodata", [("uint16", 0), ("uint8", None), ("float32", None), ("float32", -1.0)])
def test_direct_windows_equal_warped_windows(tmp_path: Path, dtype: str, nodata: float | None) -> None:
    ta, tb = _pair(tmp_path, dtype, nodata)
    grid = pair_grid(ta, tb)
    assert grid.shape != (150, 170)  # cropped to the overlap: a whole-pixel offset in one file
    for tile in (ta, tb):
        with TileReader(tile, grid) as fast, TileReader(tile, grid, direct=False) as slow:
            assert fast._offset([tile.bands["red"]]) is not None
            for win in [*grid.blocks(40), Window(0, 0, grid.width, grid.height)]:
                for halo in (0, 7):
                    bf, vf = fast.read(win, halo)
                    bs, vs = slow.read(win, halo)
                    np.testing.assert_array_equal(vf, vs)
                    for role in bs:
                        np.testing.assert_array_equal(bf[role], bs[role])


@pytest.mark.parametrize("max_pixels", [400, 1000, 1500, 2500, 5000])
def test_direct_sample_equals_warped_sample(tmp_path: Path, max_pixels: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct, "STRIP_ROWS", 40)  # several chunks each way, as on a large scene
    monkeypatch.setattr(direct, "CHUNK_COLS", 64)
    ta, tb = _pair(tmp_path)
    grid = pair_grid(ta, tb)
    factors = set()
    for tile in (ta, tb):
        with TileReader(tile, grid) as fast, TileReader(tile, grid, direct=False) as slow:
            (bf, vf), (bs, vs) = fast.sample(max_pixels), slow.sample(max_pixels)
            np.testing.assert_array_equal(vf, vs)
            for role in bs:
                np.testing.assert_array_equal(bf[role], bs[role])
        factors.add(round(decimated_grid(grid, max_pixels).transform.a / 10))
    assert factors  # odd and even factors over the parametrisation (7, 5, 4, 3, 2)


def test_direct_reads_cloud_layer_like_the_warper(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    folder = tmp_path / "T50RPV_20210615T031539"
    for band in ("B02", "B03", "B04", "B08"):
        write_raster(folder / f"T50RPV_20210615T031539_{band}.tif",
                     rng.integers(1, 4000, (60, 60)).astype(np.uint16), UTM, from_origin(600000, 3500000, 10, 10))
    write_raster(folder / "T50RPV_20210615T031539_SCL.tif", rng.integers(0, 11, (60, 60)).astype(np.uint8), UTM,
                 from_origin(600000, 3500000, 10, 10))
    tile = open_tile(folder)
    assert tile.cloud is not None
    grid = pair_grid(tile, tile)
    with TileReader(tile, grid) as fast, TileReader(tile, grid, direct=False) as slow:
        (bf, vf), (bs, vs) = fast.read(Window(5, 5, 40, 40), 3), slow.read(Window(5, 5, 40, 40), 3)
        assert not vf.all() and vf.any()
        np.testing.assert_array_equal(vf, vs)
        for role in bs:
            np.testing.assert_array_equal(bf[role], bs[role])


def test_file_off_the_grid_goes_through_the_warper(tmp_path: Path) -> None:
    arr = np.random.default_rng(1).integers(1, 4000, (4, 50, 50)).astype(np.uint16)
    ta = _tile(tmp_path / "a_2020-01-01.tif", arr)
    tb = _tile(tmp_path / "b_2021-01-01.tif", arr, x0=600003.0)  # a third of a pixel east
    grid = pair_grid(ta, tb)
    with TileReader(tb, grid) as r:
        assert r._offset([tb.bands["red"]]) is None
    with TileReader(ta, grid) as r:
        assert r._offset([ta.bands["red"]]) == (0, 0)
