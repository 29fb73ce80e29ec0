from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_raster
from rasterio.transform import from_origin
from rasterio.windows import Window

from pipeline.align import (
    TileReader,
    check_pair_valid,
    pair_grid,
    projected_grid,
    read_bands,
    sample_bands,
)
from pipeline.errors import AlignmentError
from pipeline.grid import Grid
from pipeline.io.tiles import open_tile

UTM = "EPSG:32650"


def _rgbn(path: Path, x0: float = 600000, y0: float = 3500000, size: int = 64, res: float = 10,
          crs: str = UTM, value: np.ndarray | None = None, **kw) -> Path:
    arr = value if value is not None else np.random.default_rng(0).integers(1, 250, (4, size, size), dtype=np.uint8)
    return write_raster(path, arr, crs, from_origin(x0, y0, res, res), **kw)


def test_same_grid_reads_exact_values_and_halo_pads_nan(tmp_path: Path) -> None:
    arr = np.random.default_rng(5).integers(1, 250, (4, 64, 64), dtype=np.uint8)
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif", value=arr))
    b = open_tile(_rgbn(tmp_path / "b_2021-01-01.tif"))
    grid = pair_grid(a, b)
    assert (grid.crs, grid.transform, grid.shape) == (a.crs, a.transform, (64, 64))
    bands, valid = read_bands(a, grid, Window(0, 0, 16, 16), ["red", "nir"], halo=3)
    assert bands["red"].shape == (22, 22) and bands["red"].dtype == np.float32
    np.testing.assert_allclose(bands["red"][3:19, 3:19], arr[2, :16, :16] / 255, rtol=1e-6)
    np.testing.assert_allclose(bands["nir"][3:, 3:], arr[3, :19, :19] / 255, rtol=1e-6)
    assert np.isnan(bands["red"][:3]).all() and not valid[:3].any() and valid[3:, 3:].all()


def test_reader_windows_tile_the_grid(tmp_path: Path) -> None:
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif"))
    grid = pair_grid(a, a)
    whole, _ = read_bands(a, grid, Window(0, 0, 64, 64), ["green"])
    out = np.full(grid.shape, np.nan, np.float32)
    with TileReader(a, grid, ["green"]) as r:
        for w in grid.blocks(24):
            bands, _ = r.read(w, halo=2)
            out[w.row_off:w.row_off + w.height, w.col_off:w.col_off + w.width] = bands["green"][2:-2, 2:-2]
    np.testing.assert_array_equal(out, whole["green"])


def test_band_folder_coarse_bands_resample_onto_finest(tmp_path: Path) -> None:
    folder = tmp_path / "T50RPV_20210615T031539"
    for band in ("B02", "B03", "B04", "B08"):
        write_raster(folder / f"T50RPV_20210615T031539_{band}.tif", np.full((40, 40), 1000, np.uint16), UTM,
                     from_origin(600000, 3500000, 10, 10))
    swir = np.kron(np.arange(400, dtype=np.uint16).reshape(20, 20), np.ones((1, 1), np.uint16)) + 2000
    write_raster(folder / "T50RPV_20210615T031539_B11.tif", swir, UTM, from_origin(600000, 3500000, 20, 20))
    tile = open_tile(folder)
    grid = pair_grid(tile, tile)
    assert grid.res == (10.0, 10.0) and grid.shape == (40, 40)
    bands, valid = read_bands(tile, grid, Window(0, 0, 40, 40), ["red", "swir1"])
    assert bands["swir1"].shape == (40, 40) and valid[1:-1, 1:-1].all()
    np.testing.assert_allclose(bands["red"], 0.1, rtol=1e-6)
    # bilinear: a 10 m pixel centre at a quarter of a 20 m pixel lies between 20 m values
    assert bands["swir1"][10, 10] == pytest.approx((2000 + 5 * 20 + 5) / 10000, abs=0.02)


def test_geographic_tile_goes_to_utm_with_metric_pixels(tmp_path: Path) -> None:
    deg = 0.0000898  # ~10 m of latitude
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif", x0=118.80, y0=32.05, res=deg, size=200, crs="EPSG:4326"))
    b = open_tile(_rgbn(tmp_path / "b_2021-01-01.tif", x0=118.80, y0=32.05, res=deg, size=200, crs="EPSG:4326"))
    grid = pair_grid(a, b)
    assert grid.crs.to_epsg() == 32650 and grid.res == (10.0, 10.0)
    # footprint area is kept: grid area ~ the true area of the lon/lat box
    lat = np.radians(32.05 - 100 * deg)
    true_area = (200 * deg * 111320 * np.cos(lat)) * (200 * deg * 110900)
    assert grid.width * grid.height * grid.pixel_area == pytest.approx(true_area, rel=0.08)
    bands, valid = read_bands(b, grid, Window(0, 0, grid.width, grid.height), ["red"])
    assert valid.mean() > 0.85


@pytest.mark.parametrize(("metres", "nice"), [(10.5, 10), (9.19, 10), (29.0, 30), (16.0, 15), (0.048, 0.05), (3.2, 3)])
def test_nice_resolution(metres: float, nice: float) -> None:
    from pipeline.align import _nice_resolution

    assert _nice_resolution(metres) == nice


def test_projected_grid_resolution_rounding() -> None:
    from affine import Affine
    from rasterio.crs import CRS

    g = Grid(CRS.from_epsg(4326), Affine(0.0000898, 0, 10.0, 0, -0.0000898, 0.5), 100, 100)
    pg = projected_grid(g)
    assert pg.res == (10.0, 10.0) and pg.crs.to_epsg() == 32632
    assert pg.transform.c % 10 == 0 and pg.transform.f % 10 == 0


def test_pair_in_different_crs_is_reprojected(tmp_path: Path) -> None:
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif"))
    from rasterio.warp import transform as warp_xy

    xs, ys = warp_xy(UTM, "EPSG:3857", [600000], [3500000])
    c = open_tile(_rgbn(tmp_path / "c_2021-01-01.tif", x0=xs[0] - 50, y0=ys[0] + 50, res=11.8, crs="EPSG:3857"))
    grid = pair_grid(a, c)
    assert grid.crs == a.crs and grid.res == (10.0, 10.0)
    bands, valid = read_bands(c, grid, Window(0, 0, grid.width, grid.height), ["red", "green"])
    assert bands["red"].shape == grid.shape and valid.mean() > 0.8
    assert pair_grid(c, a).crs == a.crs  # the earlier tile's grid, whatever the argument order


def test_rgba_alpha_is_a_mask_not_a_band(tmp_path: Path) -> None:
    arr = np.random.default_rng(8).integers(1, 250, (4, 16, 16), dtype=np.uint8)
    arr[3] = 255
    arr[3, :, :5] = 0
    p = write_raster(tmp_path / "drone_2020-01-01.tif", arr, UTM, from_origin(600000, 3500000, 0.1, 0.1),
                     photometric="RGB", alpha="YES")
    tile = open_tile(p)
    assert tile.sensor == "rgb" and set(tile.bands) == {"red", "green", "blue"}
    _, valid = read_bands(tile, tile.grid, Window(0, 0, 16, 16), ["red", "green", "blue"])
    assert not valid[:, :5].any() and valid[:, 6:].all()


def test_no_or_small_overlap_refused(tmp_path: Path) -> None:
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif"))
    far = open_tile(_rgbn(tmp_path / "far_2021-01-01.tif", x0=700000))
    with pytest.raises(AlignmentError, match="tiles do not overlap"):
        pair_grid(a, far)
    edge = open_tile(_rgbn(tmp_path / "edge_2021-01-01.tif", x0=600000 + 640 - 64, y0=3500000))  # 10% overlap
    with pytest.raises(AlignmentError, match=r"overlap by only 10\.0%"):
        pair_grid(a, edge)
    grid = pair_grid(a, edge, min_overlap=0.05)
    assert grid.shape == (64, 7)  # 6.4 px of overlap, rounded outwards
    assert grid.bounds[0] == pytest.approx(600000 + 640 - 64, abs=10)


def test_nodata_and_mask_and_cloud_are_invalid(tmp_path: Path) -> None:
    arr = np.random.default_rng(6).integers(1, 250, (4, 32, 32), dtype=np.uint8)
    arr[:, :4] = 0
    a = open_tile(_rgbn(tmp_path / "nd_2020-01-01.tif", size=32, value=arr, nodata=0))
    bands, valid = read_bands(a, a.grid, Window(0, 0, 32, 32), ["red"])
    assert not valid[:4].any() and valid[5:].all()
    mask = np.full((32, 32), 255, np.uint8)
    mask[:, 20:] = 0
    m = open_tile(_rgbn(tmp_path / "m_2020-01-01.tif", size=32, mask=mask))
    _, valid = read_bands(m, m.grid, Window(0, 0, 32, 32), ["red"])
    assert not valid[:, 21:].any() and valid[:, :19].all()
    # uint8 without nodata: zeros are data
    z = open_tile(_rgbn(tmp_path / "z_2020-01-01.tif", size=32, value=arr))
    bands, valid = read_bands(z, z.grid, Window(0, 0, 32, 32), ["red"])
    assert valid.all() and (bands["red"][:4] == 0).all()
    # cloud probability sidecar: >= 40 is cloud
    prob = np.zeros((32, 32), np.uint8)
    prob[10:20, 10:20] = 80
    prob[0, 0] = 39
    write_raster(tmp_path / "c_2020-01-01_cloud_prob.tif", prob, UTM, from_origin(600000, 3500000, 10, 10))
    c = open_tile(_rgbn(tmp_path / "c_2020-01-01.tif", size=32, value=arr))
    assert c.cloud is not None
    bands, valid = read_bands(c, c.grid, Window(0, 0, 32, 32), ["red", "nir"])
    assert not valid[10:20, 10:20].any() and valid.sum() == 32 * 32 - 100
    assert np.isnan(bands["nir"][15, 15])


def test_all_nodata_or_cloud_pair_refused(tmp_path: Path) -> None:
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif", size=32))
    empty = open_tile(_rgbn(tmp_path / "e_2021-01-01.tif", size=32, value=np.zeros((4, 32, 32), np.uint8), nodata=0))
    grid = pair_grid(a, empty)
    with TileReader(a, grid) as ra, TileReader(empty, grid) as re:
        with pytest.raises(AlignmentError, match="no valid pixels in the overlap"):
            check_pair_valid(ra, re, grid)
    write_raster(tmp_path / "w_2021-01-01_cloud.tif", np.ones((32, 32), np.uint8), UTM,
                 from_origin(600000, 3500000, 10, 10))
    cloudy = open_tile(_rgbn(tmp_path / "w_2021-01-01.tif", size=32))
    with TileReader(a, grid) as ra, TileReader(cloudy, grid) as rc:
        with pytest.raises(AlignmentError, match="all nodata or cloud"):
            check_pair_valid(ra, rc, grid)
    with TileReader(a, grid) as ra, TileReader(a, grid) as rb:
        assert check_pair_valid(ra, rb, grid) == 1.0


def test_sample_is_a_decimation(tmp_path: Path) -> None:
    arr = np.random.default_rng(7).integers(1, 250, (4, 100, 100), dtype=np.uint8)
    a = open_tile(_rgbn(tmp_path / "a_2020-01-01.tif", size=100, value=arr))
    bands, valid = sample_bands(a, a.grid, ["red"], max_pixels=400)
    assert bands["red"].shape == (20, 20) and valid.all()
    np.testing.assert_allclose(bands["red"], arr[2, 2::5, 2::5] / 255, rtol=1e-6)


@pytest.mark.realdata
def test_real_oscd_pairs(shared_data: Path) -> None:
    root = shared_data / "oscd/images"
    before, after = open_tile(root / "bercy/imgs_1"), open_tile(root / "bercy/imgs_2")
    grid = pair_grid(before, after)
    assert grid.crs.to_epsg() == 32631 and grid.res == (10.0, 10.0)
    # abudhabi: imgs_2 has a different pixel count; it comes out on the imgs_1 grid
    b1, b2 = open_tile(root / "abudhabi/imgs_1"), open_tile(root / "abudhabi/imgs_2")
    assert (b1.width, b1.height) != (b2.width, b2.height)
    grid = pair_grid(b1, b2)
    assert grid.crs.to_epsg() == 32640 and grid.res == (10.0, 10.0)
    win = Window(200, 200, 256, 256)
    with TileReader(b1, grid) as r1, TileReader(b2, grid) as r2:
        x1, v1 = r1.read(win, halo=4)
        x2, v2 = r2.read(win, halo=4)
        assert x1["red"].shape == x2["red"].shape == (264, 264) and v1.all() and v2.all()
        # same place on both dates: the red bands correlate strongly
        assert np.corrcoef(x1["red"].ravel(), x2["red"].ravel())[0, 1] > 0.5
        assert check_pair_valid(r1, r2, grid) > 0.9


@pytest.mark.realdata
def test_real_nanjing_pair(shared_data: Path) -> None:
    nj = shared_data / "landsat/Nanjing"
    t1 = open_tile(nj / "LT51200382000124BJC00_Nanjing")
    t2 = open_tile(nj / "LT51200382002193BJC00_Nanjing")
    grid = pair_grid(t2, t1)
    assert (grid.crs.to_epsg(), grid.shape, grid.res) == (32650, (800, 800), (30.0, 30.0))
    assert grid.transform == t1.transform
    bands, valid = sample_bands(t1, grid, ["nir", "swir1"], max_pixels=10_000)
    assert valid.all() and 0 < float(np.nanmean(bands["nir"])) < 1
