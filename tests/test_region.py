"""Region discovery: folder and STAC regions, date order, duplicate dates, missing layers."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from pipeline.errors import ConfigError, InputError, TileError, ZoneError
from pipeline.region import (
    TileEntry,
    load_region,
    region_code,
    successive_pairs,
)

REPO = Path(__file__).resolve().parents[1]
ZONES = '{"type": "FeatureCollection", "features": []}'


def _tif(path: Path, tags: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(
        path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
        crs="EPSG:32650", transform=Affine(30, 0, 660000, 0, -30, 3550000),
    ) as ds:
        ds.write(np.zeros((1, 4, 4), np.uint8))
        if tags:
            ds.update_tags(**tags)
    return path


def _region(root: Path, names: list[str], zones: bool = True) -> Path:
    for n in names:
        _tif(root / "tiles" / n)
    if zones:
        (root / "zones.geojson").write_text(ZONES)
    return root


def test_folder_region_pairs_in_date_order(tmp_path: Path) -> None:
    root = _region(tmp_path / "wuxi", ["c_2021-03-01.tif", "a_2019-03-01.tif", "b_20200301.tif"])
    (root / "approvals.gpkg").write_bytes(b"")  # presence is enough here
    (root / "tiles" / "c_2021-03-01.tif.aux.xml").write_text("<x/>")  # sidecars are not tiles
    region = load_region(root)
    assert (region.name, region.code) == ("wuxi", "WUXI")
    assert [t.acquired.year for t in region.tiles] == [2019, 2020, 2021]
    assert region.zones_path == root.resolve() / "zones.geojson"
    assert region.approvals_path == root.resolve() / "approvals.gpkg"
    pairs = successive_pairs(region)
    assert [(a.path.name, b.path.name) for a, b in pairs] == [
        ("a_2019-03-01.tif", "b_20200301.tif"), ("b_20200301.tif", "c_2021-03-01.tif")]


def test_region_yaml_settings(tmp_path: Path) -> None:
    root = _region(tmp_path / "r", ["x_2019-01-01.tif"], zones=False)
    (root / "layers").mkdir()
    (root / "layers" / "prot.geojson").write_text(ZONES)
    (root / "region.yaml").write_text(
        "name: 苏州示例\ncode: sz\nsensor: landsat-oli\nzones: layers/prot.geojson\n"
        "threshold: 0.4\n", encoding="utf-8")
    region = load_region(root)
    assert (region.name, region.code, region.sensor) == ("苏州示例", "SZ", "landsat-oli")
    assert region.zones_path.name == "prot.geojson" and region.approvals_path is None
    assert region.config["threshold"] == 0.4
    assert region.tiles[0].sensor == "landsat-oli"
    assert successive_pairs(region) == []  # one tile: nothing to compare, not an error


def test_region_code_defaults() -> None:
    assert region_code("nanjing-south") == "NANJINGS"
    assert region_code("江宁") == "REGION"


@pytest.mark.parametrize("bad", ["code: NJ-1\n", "code: ''\nname: 江宁\ntiles: nope\n", "- a\n",
                                 "name: [unclosed\n"])
def test_bad_region_yaml(tmp_path: Path, bad: str) -> None:
    root = _region(tmp_path / "r", ["x_2019-01-01.tif"])
    (root / "region.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_region(root)
    assert str(root.resolve()) in str(err.value)


def test_same_date_twice_names_both_files(tmp_path: Path) -> None:
    root = _region(tmp_path / "r", ["a_2019-03-01.tif", "b_20190301.tif", "c_2020-01-01.tif"])
    with pytest.raises(ConfigError, match="a_2019-03-01.tif.*b_20190301.tif"):
        load_region(root)
    day = date(2020, 1, 1)
    entries = (TileEntry(Path("p.tif"), day), TileEntry(Path("q.tif"), day))
    region = load_region(_region(tmp_path / "ok", ["a_2019-03-01.tif"]))
    with pytest.raises(ConfigError, match="p.tif and q.tif"):
        successive_pairs(type(region)(**{**region.__dict__, "tiles": entries}))


def test_no_tiles_and_no_zones(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "tiles").mkdir(parents=True)
    (empty / "zones.geojson").write_text(ZONES)
    with pytest.raises(TileError, match="no tiles"):
        load_region(empty)
    nozones = _region(tmp_path / "nozones", ["a_2019-03-01.tif"], zones=False)
    with pytest.raises(ZoneError) as err:
        load_region(nozones)
    assert err.value.source == str(nozones.resolve())
    with pytest.raises(ConfigError, match="not a region folder"):
        load_region(tmp_path / "missing")


def test_tile_without_any_date_is_an_error(tmp_path: Path) -> None:
    root = _region(tmp_path / "r", ["scene.tif"])
    with pytest.raises(TileError, match="scene.tif"):
        load_region(root)


def test_tiles_beside_layers_and_envi_and_band_folders(tmp_path: Path) -> None:
    root = tmp_path / "r"
    _tif(root / "LT51200382000124BJC00_Nanjing.tif")
    envi = root / "LT51200382002193BJC00_Nanjing"
    envi.write_bytes(b"\0" * 16)
    envi.with_name(envi.name + ".hdr").write_text("ENVI\n")
    _tif(root / "S2B_MSIL2A_20230105T030000" / "T50RQV_B04.tif")
    (root / "zones.geojson").write_text(ZONES)
    region = load_region(root)
    assert [t.path.name for t in region.tiles] == [
        "LT51200382000124BJC00_Nanjing.tif", "LT51200382002193BJC00_Nanjing",
        "S2B_MSIL2A_20230105T030000"]


def _item(item_id: str, when: str | None, assets: dict[str, dict[str, object]]) -> dict:
    props: dict[str, object] = {"datetime": when}
    if when is None:
        props["start_datetime"] = "2021-06-01T00:00:00Z"
        props["end_datetime"] = "2021-06-02T00:00:00Z"
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": item_id, "properties": props,
        "geometry": {"type": "Point", "coordinates": [118.8, 31.9]},
        "bbox": [118.8, 31.9, 118.8, 31.9],
        "links": [], "assets": assets,
    }


def test_stac_item_collection(tmp_path: Path) -> None:
    _tif(tmp_path / "imgs" / "late.tif")
    _tif(tmp_path / "imgs" / "early.tif")
    for b in ("B02", "B03", "B04", "B08"):
        _tif(tmp_path / "s2" / f"T50_{b}.tif")
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "prot.geojson").write_text(ZONES)
    (tmp_path / "ok.geojson").write_text(ZONES)
    collection = {
        "type": "FeatureCollection",
        "features": [
            _item("late", "2022-08-01T02:30:00Z", {
                "thumb": {"href": "imgs/late.png", "roles": ["thumbnail"], "type": "image/png"},
                "image": {"href": "imgs/late.tif", "roles": ["data"],
                          "type": "image/tiff; application=geotiff"}}),
            _item("early", "2020-08-01T02:30:00Z", {"cog": {"href": "./imgs/early.tif"}}),
            _item("mid", None, {f"B0{i}": {"href": f"s2/T50_B0{i}.tif", "roles": ["data"]}
                                for i in (2, 3, 4, 8)}),
        ],
        "assets": {"zones": {"href": "layers/prot.geojson"}},
        "links": [{"rel": "approvals", "href": "ok.geojson"}],
    }
    path = tmp_path / "jiangning.json"
    path.write_text(json.dumps(collection))
    region = load_region(path)
    assert (region.name, region.code) == ("jiangning", "JIANGNIN")
    assert [t.id for t in region.tiles] == ["early", "mid", "late"]
    assert [t.acquired for t in region.tiles] == [
        date(2020, 8, 1), date(2021, 6, 1), date(2022, 8, 1)]
    assert region.tiles[0].path == tmp_path / "imgs" / "early.tif"
    mid = region.tiles[1]
    assert mid.path == tmp_path / "s2" and mid.band_paths is not None
    assert mid.band_paths["B04"] == tmp_path / "s2" / "T50_B04.tif"
    assert region.zones_path == tmp_path / "layers" / "prot.geojson"
    assert region.approvals_path == tmp_path / "ok.geojson"
    assert len(successive_pairs(region)) == 2


def test_stac_layers_default_beside_json_and_bad_json(tmp_path: Path) -> None:
    _tif(tmp_path / "a.tif")
    (tmp_path / "zones.gpkg").write_bytes(b"")
    path = tmp_path / "items.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _item("a", "2020-01-01T00:00:00Z", {"data": {"href": "a.tif"}})]}))
    region = load_region(path)
    assert region.zones_path == tmp_path / "zones.gpkg" and len(region.tiles) == 1
    remote = tmp_path / "remote.json"
    remote.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _item("r", "2020-01-01T00:00:00Z", {"data": {"href": "https://example.org/a.tif"}})]}))
    with pytest.raises(ConfigError, match="remote asset"):
        load_region(remote)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError) as err:
        load_region(broken)
    assert err.value.source == str(broken)


def test_demo_region() -> None:
    region = load_region(REPO / "data" / "demo" / "nanjing")
    assert (region.name, region.code, region.sensor) == ("nanjing", "NJ", "landsat-tm")
    assert [t.acquired for t in region.tiles] == [date(2000, 5, 3), date(2002, 7, 12)]
    assert region.approvals_path is not None and region.approvals_path.name == "approvals.geojson"
    (before, after), = successive_pairs(region)
    with rasterio.open(before.path) as ds:
        assert ds.count == 6 and ds.descriptions[3] == "nir"
        assert ds.tags()["ACQUISITION_DATE"] == before.acquired.isoformat()


def test_patrol_zones_layer_found_like_the_others(tmp_path: Path) -> None:
    root = _region(tmp_path / "r", ["a_2019-03-01.tif"])
    assert load_region(root).patrol_zones_path is None
    (root / "patrol_zones.geojson").write_text(ZONES)
    assert load_region(root).patrol_zones_path == root.resolve() / "patrol_zones.geojson"
    (root / "teams.geojson").write_text(ZONES)
    (root / "region.yaml").write_text("patrol_zones: teams.geojson\n", encoding="utf-8")
    assert load_region(root).patrol_zones_path == root.resolve() / "teams.geojson"
    (root / "region.yaml").write_text("patrol_zones: gone.geojson\n", encoding="utf-8")
    with pytest.raises(ZoneError, match="patrol_zones"):
        load_region(root)


def test_demo_patrol_zones_go_into_the_ledger_once(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely
    from sqlalchemy import select

    from flows.monitor_region import upsert_patrol_zones
    from pipeline.ledger import Ledger
    from pipeline.ledger.patrols import zone_for
    from pipeline.ledger.schema_work import PatrolZone

    region = load_region(REPO / "data" / "demo" / "nanjing")
    assert region.patrol_zones_path is not None
    layer = gpd.read_file(region.patrol_zones_path)
    zones = gpd.read_file(region.zones_path)
    metric = layer.to_crs(32650).geometry
    for zone in zones.to_crs(32650).geometry:  # every protected zone lies in one responsibility zone
        assert max(metric.intersection(zone).area) / zone.area > 0.95
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert sorted(upsert_patrol_zones(url, region)) == sorted(layer["code"])
    assert upsert_patrol_zones(url, region) == []  # a rerun adds nothing and fails on nothing
    with Ledger.open(url) as led:
        centre = zones.geometry.iloc[0].representative_point()
        found = led.read(lambda c: zone_for(c, shapely.buffer(centre, 1e-4)))
        assert found is not None and len(found["persons"]) >= 2
        stored = led.read(lambda c: c.execute(select(PatrolZone.code, PatrolZone.name)).all())
        assert sorted(stored) == sorted(zip(layer["code"], layer["name"]))


def test_bad_patrol_zones_layer_fails_before_writing(tmp_path: Path) -> None:
    from flows.monitor_region import upsert_patrol_zones

    root = _region(tmp_path / "r", ["a_2019-03-01.tif"])
    square = {"type": "Polygon", "coordinates": [[[118, 32], [118.1, 32], [118.1, 32.1], [118, 32]]]}
    layer = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square, "properties": {"code": "A", "level": 2, "persons": "x,y"}},
        {"type": "Feature", "geometry": square, "properties": {"code": "B", "level": 2, "persons": ""}}]}
    (root / "patrol_zones.geojson").write_text(json.dumps(layer))
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with pytest.raises(ZoneError, match="B names no persons"):
        upsert_patrol_zones(url, load_region(root))
    from sqlalchemy import func, select

    from pipeline.ledger import Ledger
    from pipeline.ledger.schema_work import PatrolZone

    with Ledger.open(url) as led:
        assert led.read(lambda c: c.execute(select(func.count()).select_from(PatrolZone)).scalar()) == 0


def test_changed_patrol_zones_are_updated_with_an_event(tmp_path: Path) -> None:
    """Staff turnover: new persons in the layer reach the ledger, once, as a recorded change."""
    from sqlalchemy import select

    from flows.monitor_region import upsert_patrol_zones
    from pipeline.ledger import Ledger
    from pipeline.ledger.events import verify_chain
    from pipeline.ledger.schema import Event
    from pipeline.ledger.schema_work import PatrolZone

    root = _region(tmp_path / "r", ["a_2019-03-01.tif"])
    square = {"type": "Polygon", "coordinates": [[[118, 32], [118.1, 32], [118.1, 32.1], [118, 32]]]}

    def write(persons: str) -> None:
        layer = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": square,
                 "properties": {"code": "A", "level": 2, "persons": persons, "name": "甲片区"}}]}
        (root / "patrol_zones.geojson").write_text(json.dumps(layer, ensure_ascii=False), encoding="utf-8")

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    write("张伟,李娜")
    assert upsert_patrol_zones(url, load_region(root)) == ["A"]
    write("张伟,王强")
    assert upsert_patrol_zones(url, load_region(root)) == ["A"]
    assert upsert_patrol_zones(url, load_region(root)) == []
    with Ledger.open(url) as led:
        persons = led.read(lambda c: c.execute(select(PatrolZone.persons)).scalar_one())
        actions = led.read(lambda c: c.execute(select(Event.action).where(Event.entity == "patrol_zone")
                                               .order_by(Event.id)).scalars().all())
        assert persons == ["张伟", "王强"]
        assert actions == ["zone_added", "zone_updated"]
        assert led.read(verify_chain).ok
