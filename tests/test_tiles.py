from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from conftest import write_raster
from rasterio.transform import from_origin

from pipeline.errors import SensorError, TileError
from pipeline.io.tiles import cloud_kind, file_sha256, open_tile, tile_hash

UTM = "EPSG:32650"
T10 = from_origin(600000, 3500000, 10, 10)
T20 = from_origin(600000, 3500000, 20, 20)


def _s2_folder(folder: Path, stamp: str = "T50RPV_20210615T031539", skip: tuple[str, ...] = (), size: int = 64) -> Path:
    rng = np.random.default_rng(0)
    for band, res in (("B02", 10), ("B03", 10), ("B04", 10), ("B08", 10), ("B11", 20), ("B12", 20), ("B8A", 20)):
        if band in skip:
            continue
        n = size * 10 // res
        write_raster(folder / f"{stamp}_{band}.tif", rng.integers(100, 4000, (n, n), dtype=np.uint16),
                     UTM, from_origin(600000, 3500000, res, res))
    return folder


def test_band_folder_at_mixed_resolutions(tmp_path: Path) -> None:
    tile = open_tile(_s2_folder(tmp_path / "s2"))
    assert tile.sensor == "sentinel2" and tile.acquired == date(2021, 6, 15)
    assert tile.date_source == "sentinel-2 name"
    assert tile.bands["nir"].path.name.endswith("_B08.tif")  # not B8A
    assert tile.bands["red"].res == (10.0, 10.0) and tile.bands["swir1"].res == (20.0, 20.0)
    assert (tile.width, tile.height, tile.transform.a) == (64, 64, 10.0)  # finest band's grid
    assert tile.bands["red"].scale == 10000 and tile.cloud is None
    assert len(tile.files) == 6


def test_missing_band_file_names_folder_and_band(tmp_path: Path) -> None:
    folder = _s2_folder(tmp_path / "s2", skip=("B08",))
    with pytest.raises(SensorError, match=r"nir \(B08\)") as err:
        open_tile(folder)
    assert err.value.source == str(folder)


def test_multiband_geotiff_explicit_date_wins(tmp_path: Path) -> None:
    arr = np.random.default_rng(1).integers(0, 255, (4, 32, 32), dtype=np.uint8)
    path = write_raster(tmp_path / "gf2_2019-09-17.tif", arr, UTM, T10)
    tile = open_tile(path)
    assert tile.sensor == "rgbn" and tile.acquired == date(2019, 9, 17)
    assert tile.bands["nir"].index == 4 and tile.bands["red"].scale == 255
    assert tile.nodata is None  # uint8 without declared nodata: 0 is data
    tile = open_tile(path, acquired="2019-10-01")
    assert tile.acquired == date(2019, 10, 1) and tile.date_source == "argument"


def test_dates_from_metadata_tags(tmp_path: Path) -> None:
    arr = np.ones((3, 8, 8), np.uint8)
    p = write_raster(tmp_path / "a.tif", arr, UTM, T10, tags={"TIFFTAG_DATETIME": "2020:01:02 03:04:05"})
    assert open_tile(p).acquired == date(2020, 1, 2)
    p = write_raster(tmp_path / "b_20200101.tif", arr, UTM, T10,
                     tags={"ACQUISITION_DATE": "2020-02-03", "TIFFTAG_DATETIME": "2021:01:01 00:00:00"})
    assert open_tile(p).acquired == date(2020, 2, 3)  # acquisition tag beats name and TIFF time
    p = write_raster(tmp_path / "c_20200101.tif", arr, UTM, T10, tags={"TIFFTAG_DATETIME": "2021:01:01 00:00:00"})
    assert open_tile(p).acquired == date(2020, 1, 1)  # a date in the name beats TIFF write time


def test_missing_date_is_a_clear_error(tmp_path: Path) -> None:
    p = write_raster(tmp_path / "scene.tif", np.ones((3, 8, 8), np.uint8), UTM, T10)
    with pytest.raises(TileError, match="no acquisition date.*--before-date/--after-date"):
        open_tile(p)


def test_envi_with_wavelengths_and_date_in_header(tmp_path: Path) -> None:
    arr = np.random.default_rng(2).integers(1, 255, (6, 16, 16), dtype=np.uint8)
    p = write_raster(tmp_path / "scene", arr, UTM, from_origin(600000, 3500000, 30, 30), driver="ENVI",
                     band_tags=[{"wavelength": str(w)} for w in (0.485, 0.56, 0.66, 0.83, 1.65, 2.215)])
    hdr = tmp_path / "scene.hdr"
    text = hdr.read_text()
    if "wavelength =" not in text:
        text += "wavelength = {0.485, 0.56, 0.66, 0.83, 1.65, 2.215}\n"
    hdr.write_text(text + "acquisition time = 2003-04-05T02:30:00Z\n")
    tile = open_tile(hdr)  # naming the header opens its data file
    assert tile.path == p and tile.sensor == "landsat-tm" and tile.acquired == date(2003, 4, 5)
    assert tile.bands["swir2"].index == 6 and {f.name for f in tile.files} == {"scene", "scene.hdr"}


def test_wrong_explicit_sensor(tmp_path: Path) -> None:
    arr = np.ones((6, 8, 8), np.uint8)
    p = write_raster(tmp_path / "LT51200382000124BJC00.tif", arr, UTM, T10)
    assert open_tile(p).sensor == "landsat-tm"
    with pytest.raises(SensorError, match="LT51200382000124BJC00.tif") as err:
        open_tile(p, sensor="sentinel2")
    assert "sentinel2" in err.value.problem
    folder = _s2_folder(tmp_path / "s2")
    with pytest.raises(SensorError, match="landsat-tm"):
        open_tile(folder, sensor="landsat-tm")


def test_truncated_corrupt_missing_and_ungeoreferenced(tmp_path: Path) -> None:
    arr = np.random.default_rng(3).integers(0, 4000, (4, 256, 256), dtype=np.uint16)
    good = write_raster(tmp_path / "x_2020-01-01.tif", arr, UTM, T10, tiled=True, blockxsize=64,
                        blockysize=64, compress="deflate")
    data = good.read_bytes()
    cut = tmp_path / "cut_2020-01-01.tif"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(TileError, match="truncated or corrupt"):
        open_tile(cut)
    junk = tmp_path / "junk_2020-01-01.tif"
    junk.write_bytes(b"not a tiff at all" * 10)
    with pytest.raises(TileError, match="cannot open as a raster"):
        open_tile(junk)
    with pytest.raises(TileError, match="no such file"):
        open_tile(tmp_path / "nope.tif")
    bare = write_raster(tmp_path / "bare_2020-01-01.tif", arr[:3, :8, :8], None, from_origin(0, 0, 1, 1))
    with pytest.raises(TileError, match="no CRS"):
        open_tile(bare)


def test_truncated_envi(tmp_path: Path) -> None:
    arr = np.ones((6, 32, 32), np.uint8)
    p = write_raster(tmp_path / "LT51200382000124BJC00", arr, UTM, T10, driver="ENVI")
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(TileError, match="truncated ENVI"):
        open_tile(p)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("MSK_CLDPRB_20m", "cloud_probability"), ("T31UDQ_20200101T000000_CLD_20m", "cloud_probability"),
     ("scene_SCL", "scl"), ("scene_cloud", "cloud_mask"), ("cloud_prob", "cloud_probability"),
     ("T31UDQ_20200101T000000_B04", None)],
)
def test_cloud_names(name: str, kind: str | None) -> None:
    assert cloud_kind(name) == kind


def test_cloud_file_in_folder_and_sidecar(tmp_path: Path) -> None:
    folder = _s2_folder(tmp_path / "s2")
    write_raster(folder / "MSK_CLDPRB_20m.tif", np.zeros((32, 32), np.uint8), UTM, T20)
    tile = open_tile(folder)
    assert tile.cloud is not None and tile.cloud.kind == "cloud_probability"
    assert tile.cloud.path.name == "MSK_CLDPRB_20m.tif" and len(tile.files) == 7
    p = write_raster(tmp_path / "site_2020-05-01.tif", np.ones((4, 8, 8), np.uint8), UTM, T10)
    write_raster(tmp_path / "site_2020-05-01_cloud.tif", np.zeros((8, 8), np.uint8), UTM, T10)
    tile = open_tile(p)
    assert tile.cloud is not None and tile.cloud.kind == "cloud_mask"


def test_tile_hash_is_content_hash_and_cached(tmp_path: Path) -> None:
    import hashlib

    arr = np.random.default_rng(4).integers(0, 255, (3, 16, 16), dtype=np.uint8)
    p = write_raster(tmp_path / "a_2020-01-01.tif", arr, UTM, T10)
    tile = open_tile(p)
    assert tile_hash(tile) == hashlib.sha256(p.read_bytes()).hexdigest()
    q = tmp_path / "copy"
    q.mkdir()
    assert tile_hash(open_tile(_s2_folder(q / "s2"))) == tile_hash(open_tile(_s2_folder(tmp_path / "s2b")))
    write_raster(p, arr + 1, UTM, T10)  # rewritten: new size/mtime -> not served from the cache
    os.utime(p, ns=(1, 1))
    assert tile_hash(open_tile(p)) == file_sha256(p) == hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.realdata
def test_real_oscd_and_nanjing(shared_data: Path) -> None:
    paris = open_tile(shared_data / "oscd/images/paris/imgs_1")
    assert paris.sensor == "sentinel2" and paris.acquired == date(2016, 11, 30)
    assert paris.crs.to_epsg() == 4326 and paris.bands["swir1"].res[0] == pytest.approx(2 * paris.bands["red"].res[0])
    after = open_tile(shared_data / "oscd/images/paris/imgs_2")
    assert after.acquired == date(2017, 11, 7)
    nj = shared_data / "landsat/Nanjing"
    t1 = open_tile(nj / "LT51200382000124BJC00_Nanjing")
    t2 = open_tile(nj / "LT51200382002193BJC00_Nanjing")
    assert (t1.sensor, t1.acquired, t2.acquired) == ("landsat-tm", date(2000, 5, 3), date(2002, 7, 12))
    assert (t1.crs.to_epsg(), t1.width, t1.height, t1.transform.a) == (32650, 800, 800, 30.0)
    assert t1.bands["nir"].index == 4 and t1.bands["swir2"].index == 6 and t1.bands["red"].scale == 255
