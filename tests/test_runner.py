"""One pair end to end through pipeline.runner (no Prefect), on a synthetic scene with planted changes."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from pipeline.io.scoreraster import read_score
from pipeline.ledger import Ledger
from pipeline.runner import PairRequest, run_pair
from tests.scenes import RES, make_scene, planted_area


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


def _request(scene, tmp_path: Path, **kw) -> PairRequest:
    args = dict(before=scene.before, after=scene.after, zones=scene.zones,
                approvals=scene.approvals, ledger_url=f"sqlite:///{tmp_path / 'ledger.sqlite'}",
                out_dir=tmp_path / "out", region="testville", region_code="TV")
    args.update(kw)
    return PairRequest(**args)


def _leads(url: str):
    ledger = Ledger.open(url)
    try:
        return ledger.leads_frame()
    finally:
        ledger.close()


def test_planted_building_in_level1_zone_is_the_only_lead(scene, tmp_path):
    report = run_pair(_request(scene, tmp_path))
    assert not report.skipped
    assert len(report.created) == 1, report.leads
    assert report.approved == 1  # the change wholly inside the approval
    lead = report.leads[0]
    assert lead["code"] == "TV-2024-0001"
    assert abs(lead["area_m2"] - planted_area()) <= RES * RES  # within one pixel's worth
    assert lead["change_class"] == "construction"
    assert lead["zone_level"] == 1
    frame = _leads(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    assert len(frame) == 1
    assert frame.crs.to_epsg() == 4326


def test_rerun_adds_nothing(scene, tmp_path):
    request = _request(scene, tmp_path)
    first = run_pair(request)
    second = run_pair(request)
    assert second.skipped and not second.created and not second.updated
    assert len(_leads(request.ledger_url)) == len(first.created) == 1


def test_outputs_are_written(scene, tmp_path):
    report = run_pair(_request(scene, tmp_path))
    out = Path(report.out_dir)
    assert (out / "leads.gpkg").is_file()
    assert (out / "quicklook.png").is_file()
    with rasterio.open(out / "score.tif") as ds:
        assert ds.profile["driver"] == "GTiff" and ds.crs.to_epsg() == 32650
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert 0.0 <= float(np.nanmax(read_score(ds))) <= 1.0 and ds.dtypes[0] == "uint8"
    overlay = json.loads((out / "overlay.json").read_text())
    (south, west), (north, east) = overlay["bounds"]
    lead = report.leads[0]
    assert south < lead["centroid_lat"] < north and west < lead["centroid_lon"] < east
    assert overlay["run"] == out.name and (out / "overlay_after.png").is_file()
    chips = sorted((out / "chips").glob("*.png"))
    assert [c.stem for c in chips] == report.created
    # full-resolution true colour for the web map's tiles, and the region's outlines as layers
    with rasterio.open(out / "before.tif") as ds, rasterio.open(out / "score.tif") as score:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert (ds.width, ds.height, ds.count, ds.dtypes[0]) == (score.width, score.height, 4, "uint8")
        assert ds.transform == score.transform
        rgb = ds.read(masked=True)
        assert rgb[:3].std() > 0  # a picture, not a blank
    zones = json.loads((out / "layers" / "zones.geojson").read_text())
    assert zones["features"] and all(f["geometry"] for f in zones["features"])
    assert (out / "layers" / "approvals.geojson").is_file()


def test_zones_in_projected_crs_give_the_same_lead(tmp_path):
    scene = make_scene(tmp_path / "scene", zones_crs=32650)
    report = run_pair(_request(scene, tmp_path))
    assert len(report.created) == 1 and report.leads[0]["zone_level"] == 1


def test_other_parameters_rerun_updates_the_open_lead_instead_of_a_twin(scene, tmp_path):
    first = run_pair(_request(scene, tmp_path))
    second = run_pair(_request(scene, tmp_path, min_area_m2=500.0))
    assert not second.skipped and second.pair_key != first.pair_key
    assert second.created == [] and second.updated == first.created
    frame = _leads(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    assert len(frame) == 1 and int(frame["seen_count"].iloc[0]) == 2


def test_a_folder_staged_by_another_process_is_published_whole(scene, tmp_path):
    """A region's workers stage the code-free part of a run folder (rasters, overlays, true
    colour); the flow's process publishes it: the quicklook's samples travel in the staging
    folder, and nothing of the staging is left."""
    from pipeline import outputs
    from pipeline.rundirs import STAGING_PREFIX
    from pipeline.runner import analyse_pair, commit_pair, plan_pair

    plan = plan_pair(_request(scene, tmp_path))
    analysis = analyse_pair(plan, tmp_path / "work")
    staged = outputs.stage_outputs(plan, analysis, tmp_path / "out")
    assert (staged / "before.tif").is_file() and (staged / outputs.SAMPLES_FILE).is_file()
    report = commit_pair(plan, analysis, plan.request.ledger_url, staged)
    out = Path(report.out_dir)
    assert report.created and (out / "quicklook.png").is_file() and (out / "after.tif").is_file()
    assert not (out / outputs.SAMPLES_FILE).exists() and not staged.exists()
    assert not list((tmp_path / "out").glob(f"{STAGING_PREFIX}*"))
    assert sorted(c.stem for c in (out / "chips").glob("*.png")) == sorted(report.created)
