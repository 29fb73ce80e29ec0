"""`landpatrol run` as a user meets it: exit codes, one-line errors, stores left as they were."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, calculate_default_transform, reproject

from tests.scenes import make_scene

LANDPATROL = [sys.executable, "-c", "from pipeline.cli.main import main; main()"]


def landpatrol(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LANDPATROL, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def dump(db: Path) -> list[str]:
    """Every row of every table: what 'the ledger as it was' means."""
    with sqlite3.connect(db) as con:
        return list(con.iterdump())


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def ledger(scene, tmp_path_factory):
    """A ledger that already holds one run, so failures can be checked to leave it alone."""
    db = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    done = landpatrol("run", "--before", scene.before, "--after", scene.after, "--zones",
                      scene.zones, "--ledger", f"sqlite:///{db}", "--region", "cli")
    assert done.returncode == 0, done.stderr
    return db


def run_args(scene, db: Path, **over: object) -> list[object]:
    opts = {"--before": scene.before, "--after": scene.after, "--zones": scene.zones,
            "--approvals": scene.approvals, "--ledger": f"sqlite:///{db}", "--region": "cli2"}
    opts.update({k: v for k, v in over.items()})
    args: list[object] = ["run"]
    for key, value in opts.items():
        if value is not None:
            args += [key, value]
    return args


def assert_refused(proc: subprocess.CompletedProcess, *needles: str, code: int = 2) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == code, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_success_prints_a_leads_table_and_exits_0(scene, tmp_path):
    proc = landpatrol(*run_args(scene, tmp_path / "l.sqlite"), "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "CLI2-2024-0001" in proc.stdout and "construction" in proc.stdout
    assert "outputs:" in proc.stdout


def test_truncated_tile_is_refused_and_ledger_untouched(scene, ledger, tmp_path):
    bad = tmp_path / "S2_20240601_cut.tif"
    data = scene.after.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    before = dump(ledger)
    proc = landpatrol(*run_args(scene, ledger, **{"--after": bad}))
    assert_refused(proc, str(bad))
    assert dump(ledger) == before


def test_no_overlap_is_refused(scene, ledger, tmp_path):
    far = tmp_path / "S2_20240601_far.tif"
    with rasterio.open(scene.after) as src:
        profile = src.profile
        profile["transform"] = src.transform @ rasterio.Affine.translation(50_000, 0)
        with rasterio.open(far, "w", **profile) as dst:
            dst.write(src.read())
    before = dump(ledger)
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--after": far})), "overlap")
    assert dump(ledger) == before


def test_after_tile_in_another_crs_is_reprojected(scene, tmp_path):
    other = tmp_path / "S2_20240601_3857.tif"
    with rasterio.open(scene.after) as src:
        transform, w, h = calculate_default_transform(src.crs, "EPSG:3857", src.width, src.height,
                                                      *src.bounds)
        profile = dict(src.profile, crs="EPSG:3857", transform=transform, width=w, height=h)
        with rasterio.open(other, "w", **profile) as dst:
            for i in range(1, src.count + 1):
                reproject(rasterio.band(src, i), rasterio.band(dst, i), resampling=Resampling.nearest)
            dst.descriptions = src.descriptions
    proc = landpatrol(*run_args(scene, tmp_path / "l.sqlite", **{"--after": other,
                                                                  "--after-date": "2024-06-01"}))
    assert proc.returncode == 0, proc.stderr
    assert "CLI2-2024-0001" in proc.stdout


def test_wrong_sensor_is_refused(scene, ledger):
    before = dump(ledger)
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--sensor": "landsat-tm"})),
                   str(scene.before))
    assert dump(ledger) == before


def test_all_nodata_pair_is_refused(scene, ledger, tmp_path):
    empty = tmp_path / "S2_20240601_empty.tif"
    with rasterio.open(scene.after) as src:
        with rasterio.open(empty, "w", **src.profile) as dst:
            dst.write(np.zeros((src.count, src.height, src.width), src.dtypes[0]))
            dst.descriptions = src.descriptions
    before = dump(ledger)
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--after": empty})), "valid")
    assert dump(ledger) == before


def test_empty_zones_file_is_refused(scene, ledger, tmp_path):
    zones = tmp_path / "zones.geojson"
    zones.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    before = dump(ledger)
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--zones": zones})), str(zones))
    assert dump(ledger) == before


def test_missing_date_is_refused_with_the_option_named(scene, ledger, tmp_path):
    nodate = tmp_path / "after.tif"
    with rasterio.open(scene.after) as src:
        with rasterio.open(nodate, "w", **src.profile) as dst:
            dst.write(src.read())
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--after": nodate})), "--after-date")


def test_invalid_zone_geometry_is_repaired_with_a_warning(scene, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Polygon

    zones = gpd.read_file(scene.zones)
    x0, y0, x1, y1 = zones.geometry.iloc[0].bounds
    zones.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # bowtie
    path = tmp_path / "bowtie.geojson"
    zones.to_file(path, driver="GeoJSON")
    proc = landpatrol(*run_args(scene, tmp_path / "l.sqlite", **{"--zones": path}))
    assert proc.returncode == 0, proc.stderr
    assert "repair" in proc.stderr.lower()


def test_unwritable_out_is_refused_before_any_work(scene, ledger, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = dump(ledger)
    assert_refused(landpatrol(*run_args(scene, ledger, **{"--out": blocker / "runs"})),
                   str(blocker / "runs"))
    assert dump(ledger) == before


def test_unreachable_ledger_exits_3(scene, tmp_path):
    proc = landpatrol(*run_args(scene, tmp_path, **{"--ledger": "postgresql://nobody@127.0.0.1:1/x"}))
    assert_refused(proc, "postgresql://", code=3)


def test_bad_date_option_is_refused(scene, tmp_path):
    proc = landpatrol(*run_args(scene, tmp_path / "l.sqlite", **{"--before-date": "March 1st"}))
    assert_refused(proc, "--before-date")


def test_refused_input_makes_no_ledger_and_no_out_folder(scene, tmp_path):
    """A first run whose input is refused leaves nothing behind: no empty ledger at the
    path it would have started, no empty run folder."""
    db, out = tmp_path / "new.sqlite", tmp_path / "runs" / "x"
    missing = tmp_path / "S2_20240601_missing.tif"
    proc = landpatrol(*run_args(scene, db, **{"--after": missing}), "--out", out)
    assert_refused(proc, str(missing))
    assert not db.exists() and not (tmp_path / "runs").exists()
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    assert_refused(landpatrol(*run_args(scene, db, **{"--zones": empty}), "--out", out), str(empty))
    assert not db.exists() and not (tmp_path / "runs").exists()
