"""Computed cloud masks for Sentinel-2 L1C pairs without one (pipeline/clouds.py, models/cloudmask.py).

Synthetic L1C folders (13 single-band files at their native 10/20/60 m, real band names) hold a
bright, white cloud over a green field; the real-data tests use OSCD Paris, whose 2017-11-07
date carries two small cumulus clouds, and the Slovenia patch's cloudy 2015-07-31 scene.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from conftest import write_raster
from rasterio.transform import from_origin
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry import box

from pipeline.align import TileReader, pair_grid
from pipeline.clouds import CloudMask, cloud_loss, compute_cloud_mask, pair_masks, summary_line
from pipeline.io.tiles import open_tile

UTM = "EPSG:32650"
RES = {"B01": 60, "B02": 10, "B03": 10, "B04": 10, "B05": 20, "B06": 20, "B07": 20, "B08": 10,
       "B8A": 20, "B09": 60, "B10": 60, "B11": 20, "B12": 20}
FIELD = {"B01": 0.12, "B02": 0.09, "B03": 0.08, "B04": 0.06, "B05": 0.10, "B06": 0.2, "B07": 0.26,
         "B08": 0.30, "B8A": 0.32, "B09": 0.10, "B10": 0.002, "B11": 0.18, "B12": 0.09}
CLOUD = {"B01": 0.45, "B02": 0.44, "B03": 0.44, "B04": 0.45, "B05": 0.46, "B06": 0.48, "B07": 0.49,
         "B08": 0.50, "B8A": 0.50, "B09": 0.20, "B10": 0.03, "B11": 0.35, "B12": 0.25}
SOIL = {"B01": 0.14, "B02": 0.12, "B03": 0.14, "B04": 0.16, "B05": 0.2, "B06": 0.22, "B07": 0.24,
        "B08": 0.25, "B8A": 0.26, "B09": 0.08, "B10": 0.003, "B11": 0.30, "B12": 0.25}
SIZE = 240  # 10 m pixels: 2.4 km


def _disk(cy: float, cx: float, r: float, n: int, res: int) -> np.ndarray:
    yy, xx = (np.mgrid[0:n, 0:n] + 0.5) * res
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def s2_folder(folder: Path, stamp: str, cloud: tuple[float, float, float] | None = None,
              soil: list[tuple[int, int, int, int]] = (), skip: tuple[str, ...] = ()) -> Path:
    """A Sentinel-2 L1C folder: a field, optional bare-soil squares (pixel boxes r0, c0, r1, c1
    on the 10 m grid) and an optional cloud (centre y, x and radius in metres)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(stamp) + (0 if cloud is None else 1))
    for band, res in RES.items():
        if band in skip:
            continue
        n = SIZE * 10 // res
        refl = np.full((n, n), FIELD[band], np.float32) * rng.normal(1, 0.02, (n, n)).astype(np.float32)
        for r0, c0, r1, c1 in soil:
            f = 10 / res
            refl[int(r0 * f):int(np.ceil(r1 * f)), int(c0 * f):int(np.ceil(c1 * f))] = SOIL[band]
        if cloud is not None:
            refl[_disk(*cloud, n, res)] = CLOUD[band]
        write_raster(folder / f"{stamp}_{band}.tif", np.round(refl * 10_000).astype(np.uint16), UTM,
                     from_origin(500_000, 3_400_000, res, res))
    return folder


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("l1c")
    before = s2_folder(root / "before", "T50RPV_20210615T031539")
    # a new building site under the cloud and one in the clear; the cloud at (700 m, 800 m)
    after = s2_folder(root / "after", "T50RPV_20210905T031539", cloud=(700.0, 800.0, 350.0),
                      soil=[(60, 70, 80, 90), (180, 160, 200, 180)])
    return open_tile(before), open_tile(after)


def test_l1c_folder_carries_the_cloud_model_bands(pair, tmp_path: Path) -> None:
    before, after = pair
    assert set(after.cloud_bands) == {"B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12"}
    assert after.cloud is None and after.cloud_bands["B10"].res == (60.0, 60.0)
    assert len(after.files) == 11  # the six detector bands, B01, B05, B8A, B09, B10 (hashed too)
    l2a = open_tile(s2_folder(tmp_path / "l2a", "T50RPV_20210615T031539", skip=("B10",)))
    assert not l2a.cloud_bands and "B10" in l2a.cloud_note and "SCL" in l2a.cloud_note
    assert len(l2a.files) == 6  # no cloud model, nothing extra read


def test_model_calls_the_white_cloud_cloud_and_the_field_clear(pair) -> None:
    before, after = pair
    grid = pair_grid(before, after)
    mask = compute_cloud_mask(after, grid).window(Window(0, 0, grid.width, grid.height))
    cloud = _disk(700.0, 800.0, 350.0, SIZE, 10)
    assert mask[cloud].mean() > 0.97
    # the dilation adds a buffer of about 120 m, not more than 250 m
    assert not mask[~_disk(700.0, 800.0, 350.0 + 250.0, SIZE, 10)].any()
    assert mask[_disk(700.0, 800.0, 350.0 + 60.0, SIZE, 10)].mean() > 0.97
    assert not compute_cloud_mask(before, grid).cloudy.any()
    # the two-step predict (2 x 2 blocks first) gives the mask of predicting every pixel
    from pipeline.clouds import CloudSettings

    every = compute_cloud_mask(after, grid, CloudSettings(gate=0)).cloudy
    assert np.array_equal(every, compute_cloud_mask(after, grid).cloudy)


def test_windowed_reads_do_not_depend_on_the_window_size(pair) -> None:
    before, after = pair
    grid = pair_grid(before, after)
    clouds = compute_cloud_mask(after, grid)
    whole = clouds.window(Window(0, 0, grid.width, grid.height))
    f = clouds.factor
    assert np.array_equal(whole, np.repeat(np.repeat(clouds.cloudy, f, 0), f, 1)[:grid.height, :grid.width])
    mosaics = []
    with TileReader(after, grid, ("red", "nir"), clouds=clouds) as reader:
        for size in (37, 64, 240):
            valid = np.zeros(grid.shape, bool)
            for win in grid.blocks(size):
                _, ok = reader.read(win, halo=3)
                valid[win.row_off:win.row_off + win.height, win.col_off:win.col_off + win.width] = ok[3:-3, 3:-3]
            mosaics.append(valid)
        assert all(np.array_equal(mosaics[0], m) for m in mosaics[1:])
        assert np.array_equal(mosaics[0], ~whole)
        # the scene sample sees the same mask, at the sample's pixels
        _, sampled = reader.sample(2000)
        has, cloudy = reader.sample_clouds(2000)
        assert has.all() and np.array_equal(sampled, ~cloudy) and cloudy.any()


def test_detection_is_identical_for_any_window_size_and_nothing_under_the_cloud(pair, tmp_path: Path) -> None:
    from models.cva import CVADetector
    from pipeline.detect import DetectParams, detect_pair

    before, after = pair
    grid = pair_grid(before, after)
    cb, ca = pair_masks(before, after, grid)
    assert isinstance(cb, CloudMask) and isinstance(ca, CloudMask) and not cb.cloudy.any()
    out = []
    for size in (48, 100, 256):
        with TileReader(before, grid, ("blue", "green", "red", "nir", "swir1", "swir2"), clouds=cb) as rb, \
                TileReader(after, grid, ("blue", "green", "red", "nir", "swir1", "swir2"), clouds=ca) as ra:
            det = detect_pair(rb, ra, grid, CVADetector(), tmp_path / f"w{size}", DetectParams(block_size=size))
        with rasterio.open(det.class_path) as src:
            out.append((src.read(1), det.patches))
    for cls, patches in out[1:]:
        assert np.array_equal(cls, out[0][0])
        assert len(patches) == len(out[0][1]) > 0
        assert patches.geometry.normalize().geom_equals(out[0][1].geometry.normalize()).all()
    cloudy = ca.window(Window(0, 0, grid.width, grid.height))
    changed = out[0][0] > 0
    assert changed[180:200, 160:180].mean() > 0.8  # the site in the clear is found
    assert not (changed & cloudy).any()  # the site under the cloud is not claimed


def _zones(grid, path: Path) -> Path:
    gpd.GeoDataFrame({"zone_id": ["Z1"], "zone_type": ["permanent_basic_farmland"], "level": [1]},
                     geometry=[box(*grid.bounds)], crs=grid.crs).to_file(path, driver="GeoJSON")
    return path


def test_run_reports_what_clouds_took(pair, tmp_path: Path) -> None:
    from pipeline.ledger import Ledger
    from pipeline.runner import PairRequest, run_pair
    from pipeline.runsummary import summary_markdown

    before, after = pair
    grid = pair_grid(before, after)
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    report = run_pair(PairRequest(before=before.path, after=after.path, zones=_zones(grid, tmp_path / "z.geojson"),
                                  ledger_url=url, out_dir=tmp_path / "out", region="clouds"))
    clouds = report.clouds
    assert clouds is not None
    overlap = grid.width * grid.height * grid.pixel_area / 1e6
    assert clouds["overlap_km2"] == pytest.approx(overlap, rel=0.01)
    assert clouds["before"]["share"] == 0 and clouds["before"]["source"] == "s2cloudless-v0.1"
    true_share = _disk(700.0, 800.0, 350.0 + 120.0, SIZE, 10).mean()  # the cloud and its buffer
    assert clouds["after"]["share"] == pytest.approx(true_share, abs=0.03)
    assert clouds["after"]["km2"] == pytest.approx(clouds["after"]["share"] * clouds["overlap_km2"], rel=1e-3)
    assert clouds["union"] == {k: clouds["after"][k] for k in ("share", "km2")}
    assert clouds["model"]["resolution_m"] == 60 and clouds["model"]["threshold"] == 0.4
    # recorded with the run, in run.json, and a lead only where the land is clear
    with Ledger.open(url) as ledger:
        leads = ledger.leads_frame()
    assert len(leads) >= 1 and leads.to_crs(grid.crs).geometry.intersects(
        box(500_000 + 700, 3_400_000 - 1000, 500_000 + 900, 3_400_000 - 600)).sum() == 0
    with sqlite3.connect(tmp_path / "l.sqlite") as con:
        (scene,) = con.execute("SELECT scene_params FROM runs").fetchone()
    assert json.loads(scene)["clouds"]["after"]["share"] == clouds["after"]["share"]
    run_json = json.loads((Path(report.out_dir) / "run.json").read_text())
    assert run_json["scene"]["clouds"]["union"]["share"] == clouds["union"]["share"]
    md = summary_markdown(report, "t", "cva", 0.5, lang="en")
    assert "overlap lost to clouds" in md and f"{100 * clouds['union']['share']:.1f}%" in md
    line = summary_line(clouds)
    assert line is not None and "before 0.0%" in line and "km2 overlap" in line


def test_cli_run_prints_the_cloud_loss_and_a_date_not_checked(pair, tmp_path: Path) -> None:
    _, after = pair
    grid = pair_grid(*pair)
    l2a = s2_folder(tmp_path / "l2a", "T50RPV_20210615T031539", skip=("B10",))
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli.main import main; main()", "run", "--before", str(l2a),
         "--after", str(after.path), "--zones", str(_zones(grid, tmp_path / "z.geojson")),
         "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}", "--region", "cli-clouds"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("clouds:"))
    assert "before not checked" in line and "B10" in line and "after " in line and "lost " in line


def test_own_cloud_layer_wins_and_nothing_is_computed(tmp_path: Path) -> None:
    folder = s2_folder(tmp_path / "scl", "T50RPV_20210905T031539", cloud=(700.0, 800.0, 350.0))
    scl = np.full((SIZE // 2, SIZE // 2), 4, np.uint8)  # vegetation; no cloud class anywhere
    write_raster(folder / "T50RPV_20210905T031539_SCL_20m.tif", scl, UTM, from_origin(500_000, 3_400_000, 20, 20))
    tile = open_tile(folder)
    assert tile.cloud is not None and tile.cloud.kind == "scl" and not tile.cloud_bands
    other = open_tile(s2_folder(tmp_path / "b", "T50RPV_20210615T031539"))
    grid = pair_grid(other, tile)
    assert pair_masks(other, tile, grid)[1] is None
    with TileReader(other, grid, ("red",)) as rb, TileReader(tile, grid, ("red",)) as ra:
        loss = cloud_loss(rb, ra, grid, 10_000)
    assert loss["after"]["source"] == "tile" and loss["after"]["kind"] == "scl" and loss["after"]["share"] == 0


def test_missing_artifact_is_a_model_error(tmp_path: Path, monkeypatch) -> None:
    import models.cloudmask as cm
    from pipeline.errors import ModelError

    bad = tmp_path / "s2cloudless-v0.1.txt.gz"
    bad.write_bytes(b"\x1f\x8b not a model")
    monkeypatch.setattr(cm, "ARTIFACT", bad)
    cm._booster.cache_clear()
    try:
        with pytest.raises(ModelError, match="cloud model"):
            cm.cloud_probability(np.full((1, 10), 0.3))
    finally:
        monkeypatch.undo()
        cm._booster.cache_clear()


def test_post_processing_averages_specks_away_and_buffers_clouds() -> None:
    from models.cloudmask import cloud_mask_from_probability

    p = np.zeros((40, 40), np.float32)
    p[5, 5] = 1.0                        # one bright roof
    p[20:30, 20:30] = 0.9                # a cloud
    p[0:3, 30:40] = np.nan               # no data
    m = cloud_mask_from_probability(p, 0.4, 2, 2)
    assert not m[:12, :12].any()         # the speck is averaged away
    assert m[20:30, 20:30].all() and m[18, 25] and m[31, 25] and not m[35, 25]
    assert not m[0:3, 30:40].any()       # no data is never cloud
    assert np.array_equal(cloud_mask_from_probability(p, 0.4, 0, 0), np.nan_to_num(p) > 0.4)


# --- real data -------------------------------------------------------------------------------

def _visible_clouds(bands: dict[str, np.ndarray]) -> np.ndarray:
    """White areas of at least 5 x 5 pixels (50 m): blue, green and red TOA all above 0.2."""
    white = (bands["blue"] > 0.2) & (bands["green"] > 0.2) & (bands["red"] > 0.2)
    return ndimage.binary_opening(white, np.ones((5, 5), bool))


@pytest.mark.realdata
@pytest.mark.slow
def test_oscd_paris_clouds_masked_and_no_lead_under_them(shared_data: Path, tmp_path: Path) -> None:
    from pipeline.runner import PairRequest, run_pair

    city = shared_data / "oscd" / "images" / "paris"
    before, after = open_tile(city / "imgs_1"), open_tile(city / "imgs_2")
    grid = pair_grid(before, after)
    whole = Window(0, 0, grid.width, grid.height)
    masks = {}
    for tile in (before, after):
        with TileReader(tile, grid, ("blue", "green", "red"), use_cloud=False) as reader:
            visible = _visible_clouds(reader.read(whole)[0])
        masks[tile.acquired] = mask = compute_cloud_mask(tile, grid).window(whole)
        if tile is after:  # 2017-11-07: two cumulus clouds, ~500 m across
            assert visible.sum() > 1000
            assert mask[visible].mean() > 0.95
            assert mask.mean() < 0.15
        else:  # 2016-11-30: no cloud to see; the model's few false alarms stay few
            assert visible.sum() == 0 and mask.mean() < 0.05
    report = run_pair(PairRequest(before=before.path, after=after.path, zones=_zones(grid, tmp_path / "z.geojson"),
                                  ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}", out_dir=tmp_path / "out",
                                  region="paris"))
    cloudy = masks[before.acquired] | masks[after.acquired]
    assert report.clouds["union"]["share"] == pytest.approx(cloudy.mean(), abs=0.01)
    with rasterio.open(Path(report.out_dir) / "change_class.tif") as src:
        changed = src.read(1) > 0
    assert changed.any() and not (changed & cloudy).any()
    from rasterio.features import rasterize

    leads = gpd.read_file(Path(report.out_dir) / "leads.gpkg").to_crs(grid.crs)
    lead_px = rasterize(leads.geometry, out_shape=grid.shape, transform=grid.transform).astype(bool)
    assert lead_px.any() and (lead_px & cloudy).sum() <= 0.002 * lead_px.sum()  # polygon edges only


@pytest.mark.realdata
def test_slovenia_cloudy_scene_mask_agrees_with_the_sentinel_hub_probability(shared_data: Path,
                                                                            tmp_path: Path) -> None:
    """The 2015-07-31 scene's 13 real bands, without its CLP: the computed mask covers what
    Sentinel Hub's own s2cloudless probability (CLP, at 10 m) calls cloud; 2015-07-11 is clear."""
    data = shared_data / "slovenia"
    scenes = np.load(data / "REFERENCE_SCENES.npy", mmap_mode="r")
    clp = np.load(data / "TestEOPatch" / "data" / "CLP.npy")[1, ..., 0]
    coords = json.loads((data / "TestEOPatch" / "bbox.geojson").read_text())["coordinates"][0]
    transform = from_origin(min(c[0] for c in coords), max(c[1] for c in coords), 10.0, 10.0)
    tiles = []
    for name, idx, day in (("clear", 4, date(2015, 7, 11)), ("cloudy", 1, date(2015, 7, 31))):
        dn = np.clip(np.moveaxis(np.asarray(scenes[idx]), -1, 0) * 10_000, 1, 65_535).astype(np.uint16)
        path = write_raster(tmp_path / f"s2_{name}.tif", dn, "EPSG:32633", transform, nodata=0)
        tiles.append(open_tile(path, "sentinel2", day))
    grid = pair_grid(*tiles)
    whole = Window(0, 0, grid.width, grid.height)
    clear, cloudy = (compute_cloud_mask(t, grid).window(whole) for t in tiles)
    truth = clp[:grid.height, :grid.width] >= 0.4
    assert truth.mean() > 0.5 and cloudy[truth].mean() > 0.95
    assert clear.mean() < 0.05


def test_a_broken_cloud_band_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    """A cloud-model band that cannot be read stops the run before anything is written, like any
    band: B10 is not a raster at all."""
    from pipeline.errors import TileError

    folder = s2_folder(tmp_path / "l1c", "T50RPV_20210905T031539")
    b10 = folder / "T50RPV_20210905T031539_B10.tif"
    b10.write_bytes(b"not a tiff at all" * 10)
    with pytest.raises(TileError) as err:
        open_tile(folder)
    assert err.value.source == str(b10) and "\n" not in str(err.value)
