from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.errors import SensorError
from pipeline.evaluate.baselines import NaiveCVADetector
from pipeline.evaluate.oscd import S2_ROLES, evaluate_oscd, labelled_cities, read_city

RES = 0.0001  # degrees, ~10 m
H, W = 60, 50


def _write(path: Path, arr: np.ndarray, transform: Affine, crs: str | None = "EPSG:4326") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kw = {"crs": crs, "transform": transform} if crs else {}
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype=arr.dtype, **kw) as dst:
        dst.write(arr, 1)


def make_city(root: Path, name: str, h2: int = H, w2: int = W, seed: int = 0) -> np.ndarray:
    """Two dates; a 12x10 block changes strongly; imgs_2 may have another pixel count."""
    rng = np.random.default_rng(seed)
    west, north = 2.0, 48.9
    label = np.ones((H, W), np.uint8)
    label[20:32, 15:25] = 2
    for folder, shape in (("imgs_1", (H, W)), ("imgs_2", (h2, w2))):
        for role, band in S2_ROLES.items():
            coarse = band in ("B11", "B12")
            rows, cols = (shape[0] // 2, shape[1] // 2) if coarse else shape
            t = Affine(RES * W / cols, 0, west, 0, -RES * H / rows, north)
            base = 1000 + 100 * len(role) + rng.normal(0, 30, (rows, cols))
            if folder == "imgs_2":
                yy, xx = np.mgrid[0:rows, 0:cols]
                yy, xx = (yy + 0.5) * H / rows, (xx + 0.5) * W / cols  # centres in label pixels
                base = base + np.where((yy >= 20) & (yy < 32) & (xx >= 15) & (xx < 25), 2500, 0)
            _write(root / "images" / name / folder / f"T31_{band}.tif", base.astype(np.uint16), t)
    _write(root / "labels" / name / "cm" / f"{name}-cm.tif", label, Affine.identity(), crs=None)
    return label


@pytest.fixture()
def oscd_root(tmp_path: Path) -> Path:
    make_city(tmp_path, "alpha")
    make_city(tmp_path, "beta", h2=H - 2, w2=W - 1, seed=1)
    (tmp_path / "images" / "unlabelled" / "imgs_1").mkdir(parents=True)
    return tmp_path


def test_only_labelled_cities_found(oscd_root: Path) -> None:
    assert labelled_cities(oscd_root) == ["alpha", "beta"]


def test_city_read_onto_label_grid(oscd_root: Path) -> None:
    city = read_city(oscd_root, "beta")  # imgs_2 has a different pixel count
    for stack in (city.before, city.after):
        assert set(stack) == set(S2_ROLES)
        for band in stack.values():
            assert band.shape == (H, W) and band.dtype == np.float32
    assert city.label.sum() == 120
    # reflectance scale and the planted change, in a 20 m band too
    assert 0.05 < np.nanmedian(city.before["red"]) < 0.2
    assert np.nanmean(city.after["swir1"][22:30, 17:23]) > np.nanmean(city.before["swir1"][22:30, 17:23]) + 0.2


def test_evaluate_finds_planted_change(oscd_root: Path) -> None:
    rec = evaluate_oscd(oscd_root, NaiveCVADetector(), progress=lambda m: None)
    assert set(rec) == {"pooled", "pooled_objects", "cities", "detector", "roles", "postprocess", "seconds"}
    assert rec["roles"] == list(S2_ROLES)  # every role by default; roles=... reads a subset (v4.4's 4-band study)
    assert rec["postprocess"]["mmu_pixels"] == 4 and rec["postprocess"]["opening_radius_px"] == 1
    assert set(rec["cities"]) == {"alpha", "beta"}
    assert {"precision", "recall", "f1", "iou"} <= set(rec["pooled"])
    assert rec["pooled"]["recall"] > 0.8
    assert rec["pooled"]["tp"] == sum(c["tp"] for c in rec["cities"].values())
    # object-level: the planted blocks are found by patches that lie on them
    objs = rec["pooled_objects"]
    assert objs["objects"] == sum(c["objects"]["objects"] for c in rec["cities"].values()) > 0
    assert objs["object_recall"] == 1.0 and objs["patch_precision"] > 0.5
    four = evaluate_oscd(oscd_root, NaiveCVADetector(), progress=lambda m: None, roles=("blue", "green", "red", "nir"))
    assert four["roles"] == ["blue", "green", "red", "nir"] and four["pooled"]["recall"] > 0.8

    class NeedsSwir(NaiveCVADetector):
        required_roles = frozenset({"red", "swir1"})

    evaluate_oscd(oscd_root, NeedsSwir(), progress=lambda m: None)  # every role read: swir is there
    with pytest.raises(SensorError, match="swir1"):  # only the four roles read
        evaluate_oscd(oscd_root, NeedsSwir(), progress=lambda m: None, roles=("blue", "green", "red", "nir"))


def test_cli_writes_json_and_reports_errors(oscd_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = CliRunner().invoke(app, ["evaluate", "oscd", str(oscd_root), "--cities", "alpha",
                                   "--detector", "naive", "--json", str(out)])
    assert res.exit_code == 0, res.output
    rec = json.loads(out.read_text())
    assert list(rec["cities"]) == ["alpha"] and rec["detector"]["name"] == "naive"
    import sys

    from pipeline.cli.options import run_app

    argv = sys.argv
    sys.argv = ["landpatrol", "evaluate", "oscd", str(oscd_root), "--cities", "nowhere", "--detector", "naive",
                "--json", str(out)]
    try:
        assert run_app(app) == 2
    finally:
        sys.argv = argv


def test_cli_raw_scores_the_pixel_mask(oscd_root: Path, tmp_path: Path) -> None:
    recs = {}
    for flag in ([], ["--raw"]):
        out = tmp_path / f"r{len(flag)}.json"
        res = CliRunner().invoke(app, ["evaluate", "oscd", str(oscd_root), "--cities", "alpha",
                                       "--detector", "naive", "--json", str(out), *flag])
        assert res.exit_code == 0, res.output
        recs[bool(flag)] = json.loads(out.read_text())
    assert recs[True]["postprocess"]["mmu_pixels"] == 1 and recs[True]["postprocess"]["opening_radius_px"] == 0
    assert recs[False]["postprocess"]["mmu_pixels"] == 4
