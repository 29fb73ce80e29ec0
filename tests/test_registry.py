"""Detector names, the default, and ``auto`` (by pixel size) through the registry, evaluation and runner."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from models.registry import (
    AUTO_MEMBERS,
    DEFAULT_DETECTOR,
    auto_choice,
    available_detectors,
    check_detector_name,
    get_detector,
)
from pipeline.errors import ConfigError
from pipeline.evaluate.images import pixel_size_m

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def test_default_is_auto() -> None:
    assert DEFAULT_DETECTOR == "auto"
    assert get_detector(None, 10.0).name == "auto" and get_detector(None, 30.0).name == "irmad:ki"
    fine = get_detector(None, 10.0)
    assert fine.members["full"].name == "cva" and fine.members["rgb"].name == "irmad"  # v4.5: RGB at 5-15 m
    assert fine.members["nir"].name == "cva:ki"  # v4.4: 4-band pairs at 5-15 m
    assert get_detector(None, 1.5).members["rgb"].name == "gbm"  # the aerial study's member (v4.5: gbm v6)


@pytest.mark.parametrize("size,nir", [(0.8, False), (4.9, False), (5.0, True), (10.0, True), (15.0, True), (None, False)])
def test_four_band_member_only_from_5_m(size: float | None, nir: bool) -> None:
    """Gaofen-2 / drone 4-band pairs (finer than 5 m) and pictures keep the aerial study's member."""
    det = get_detector(None, size)
    assert ("nir" in det.members) == nir
    # RGB-only pairs: irmad at 5-15 m (v4.5, OSCD true colour), the aerial member when finer
    assert det.members["rgb"].name == (AUTO_MEMBERS["rgb_medium"] if nir else AUTO_MEMBERS["rgb"]).partition(":")[0]
    assert {"auto", "cva", "gbm", "irmad", "ensemble"} <= set(available_detectors())


@pytest.mark.parametrize("size,fine", [(0.5, True), (10.0, True), (15.0, True), (30.0, False), (None, True)])
def test_auto_goes_by_pixel_size(size: float | None, fine: bool) -> None:
    expected = "fine" if fine else AUTO_MEMBERS["coarse"]
    assert auto_choice(size) == expected
    name = (AUTO_MEMBERS["full"] if AUTO_MEMBERS["full"] == AUTO_MEMBERS["rgb"] else "auto") if fine else expected
    assert get_detector("auto", size).name == name
    assert get_detector("AUTO", size).name == name


def test_unknown_name_is_refused_naming_the_option() -> None:
    with pytest.raises(ConfigError, match="--detector.*unknown detector 'unet'"):
        check_detector_name("unet")


def _tif(path: Path, crs: str | None, transform: Affine) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=3, dtype="uint8",
                       crs=crs, transform=transform) as dst:
        dst.write(np.zeros((3, 4, 4), np.uint8))
    return path


def test_pixel_size_of_projected_geographic_and_plain_images(tmp_path: Path) -> None:
    assert pixel_size_m(_tif(tmp_path / "utm.tif", "EPSG:32650", Affine(10, 0, 6e5, 0, -10, 3.5e6))) == 10.0
    geo = pixel_size_m(_tif(tmp_path / "geo.tif", "EPSG:4326", Affine(1e-4, 0, 118.0, 0, -1e-4, 32.0)))
    assert geo == pytest.approx(1e-4 * 111_320 * np.cos(np.radians(32.0)), rel=1e-3)
    assert pixel_size_m(_tif(tmp_path / "plain.tif", None, Affine.identity())) is None
    (tmp_path / "pic.png").write_bytes(b"")
    assert pixel_size_m(tmp_path / "pic.png") is None  # pictures are not even opened


@pytest.mark.realdata
def test_nanjing_landsat_is_30_m_so_auto_takes_its_coarse_member() -> None:
    envi = DATA / "landsat" / "Nanjing" / "LT51200382000124BJC00_Nanjing"
    if not envi.exists():
        pytest.skip("shared data not present")
    assert pixel_size_m(envi) == pytest.approx(30.0)
    assert get_detector("auto", pixel_size_m(envi)).name == AUTO_MEMBERS["coarse"]


def test_runner_resolves_auto_on_the_pair_grid(tmp_path: Path) -> None:
    from pipeline.runner import PairRequest, plan_pair
    from tests.scenes import make_scene

    scene = make_scene(tmp_path / "scene")  # 10 m
    request = dict(before=scene.before, after=scene.after, zones=scene.zones)
    assert plan_pair(PairRequest(**request, detector="auto")).detector.name == "auto"  # 10 m: the fine pair
    assert plan_pair(PairRequest(**request)).detector.name == "auto"  # the default is auto
    assert plan_pair(PairRequest(**request, detector="cva")).detector.name == "cva"
    with pytest.raises(ConfigError, match="--detector"):
        plan_pair(PairRequest(**request, detector="nope"))
