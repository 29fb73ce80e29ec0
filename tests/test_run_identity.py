"""What a run compared is its tiles, detector, parameters, zones, approvals and region: zones
that miss the scene are refused, and other zones or another region over the same tiles are a
new comparison (the analysis itself may be reused)."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.affinity import translate

from pipeline.errors import ZoneError
from pipeline.ledger import Ledger
from pipeline.planning import plan_pair
from pipeline.runner import PairRequest, run_pair
from pipeline.zones import ZoneWarning
from tests.scenes import make_scene, pair_request


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


def _request(scene, tmp_path: Path, **kw) -> PairRequest:
    return pair_request(scene, f"sqlite:///{tmp_path / 'ledger.sqlite'}", **kw)


def _runs(url: str) -> int:
    with Ledger.open(url) as led:
        return int(led.read(lambda c: c.exec_driver_sql("SELECT count(*) FROM runs").scalar()))


def test_zones_far_from_the_scene_are_refused_naming_both(scene, tmp_path):
    zones = gpd.read_file(scene.zones).to_crs(32650)
    zones.geometry = zones.geometry.translate(150_000, 0)  # a county further east
    far = tmp_path / "far_zones.gpkg"
    zones.to_file(far)
    req = _request(scene, tmp_path, zones=far)
    with pytest.raises(ZoneError) as err:
        run_pair(req)
    assert str(far) in str(err.value) and scene.before.name in str(err.value)
    assert scene.after.name in str(err.value)
    assert _runs(req.ledger_url) == 0


def test_zones_in_metres_labelled_as_lon_lat_are_refused(scene, tmp_path):
    zones = gpd.read_file(scene.zones).to_crs(32650)
    bad = tmp_path / "zones_no_crs.geojson"  # GeoJSON without crs member: read as EPSG:4326
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {k: row[k] for k in ("zone_id", "zone_type", "level")},
         "geometry": shapely.geometry.mapping(row.geometry)} for _, row in zones.iterrows()]}))
    with pytest.raises(ZoneError, match="not longitude/latitude"):
        run_pair(_request(scene, tmp_path, zones=bad))


def test_zones_with_an_unknown_epsg_are_refused(scene, tmp_path):
    doc = json.loads(Path(scene.zones).read_text())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::99999"}}
    bad = tmp_path / "zones_epsg99999.geojson"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ZoneError, match="unknown CRS") as err:
        run_pair(_request(scene, tmp_path, zones=bad))
    assert str(bad) in str(err.value)


def test_corrected_zones_are_a_new_comparison(scene, tmp_path):
    zones = gpd.read_file(scene.zones)
    only_south = tmp_path / "south.geojson"
    zones[zones["zone_id"] == "Z2"].to_file(only_south)
    first = run_pair(_request(scene, tmp_path, zones=only_south))
    assert not first.skipped and first.created == []
    second = run_pair(_request(scene, tmp_path))  # the zones layer as it should have been
    assert not second.skipped and second.created == ["TV-2024-0001"]
    assert run_pair(_request(scene, tmp_path)).skipped


def test_another_region_over_the_same_tiles_is_compared(scene, tmp_path):
    mine, theirs = _request(scene, tmp_path), _request(scene, tmp_path, region="otherville",
                                                       region_code="OV")
    a, b = plan_pair(mine), plan_pair(theirs)
    assert a.pair_key != b.pair_key and a.analysis_key == b.analysis_key  # cache reusable
    assert run_pair(mine).created == ["TV-2024-0001"]
    assert run_pair(theirs).created == ["OV-2024-0001"]


def test_approvals_belong_to_the_comparison(scene, tmp_path):
    without = plan_pair(_request(scene, tmp_path, approvals=None))
    assert without.pair_key != plan_pair(_request(scene, tmp_path)).pair_key


def test_3d_zones_lose_their_z_and_give_the_same_lead(scene, tmp_path):
    zones = gpd.read_file(scene.zones)
    zones.geometry = [shapely.force_3d(g, 12.5) for g in zones.geometry]
    flat = tmp_path / "zones3d.gpkg"
    zones.to_file(flat)
    with pytest.warns(ZoneWarning, match="dropped the Z") as seen:
        report = run_pair(_request(scene, tmp_path, zones=flat, out_dir=tmp_path / "out"))
    assert any(str(flat) in str(w.message) for w in seen)
    assert report.created == ["TV-2024-0001"] and Path(report.out_dir, "quicklook.png").is_file()


def test_nan_zone_coordinates_are_refused(scene, tmp_path):
    zones = gpd.read_file(scene.zones)
    ring = list(zones.geometry.iloc[0].exterior.coords)
    ring[1] = (float("nan"), ring[1][1])
    doc = json.loads(Path(scene.zones).read_text())
    doc["features"][0]["geometry"]["coordinates"] = [[list(p) for p in ring]]
    bad = tmp_path / "zones_nan.geojson"
    bad.write_text(json.dumps(doc))
    req = _request(scene, tmp_path, zones=bad)
    with pytest.raises(ZoneError, match="NaN"):
        run_pair(req)
    assert _runs(req.ledger_url) == 0


def test_moved_zone_is_a_new_comparison(scene, tmp_path):
    zones = gpd.read_file(scene.zones)
    zones.geometry = [translate(g, 0.0001, 0) for g in zones.geometry]
    moved = tmp_path / "moved.geojson"
    zones.to_file(moved)
    assert plan_pair(_request(scene, tmp_path, zones=moved)).pair_key != \
        plan_pair(_request(scene, tmp_path)).pair_key
