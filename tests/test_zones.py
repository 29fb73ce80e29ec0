"""Zone and approval layers: formats, CRSs, column maps, geometry repair and every bad input."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from pipeline.errors import ConfigError, ZoneError
from pipeline.zones import (
    ZONE_TYPES,
    ColumnMap,
    ZoneWarning,
    load_approvals,
    load_column_map,
    load_zones,
)

UTM = "EPSG:32650"
X0, Y0 = 660_000.0, 3_540_000.0
SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"


def _write(tmp_path: Path, name: str, data: dict, geoms: list, crs: str | None = UTM,
           driver: str | None = None) -> Path:
    path = tmp_path / name
    gpd.GeoDataFrame(data, geometry=geoms, crs=crs).to_file(path, engine="pyogrio", driver=driver)
    return path


def _zones(tmp_path: Path, name: str = "zones.gpkg", **over: list) -> Path:
    data = {"zone_id": ["Z1", "Z2"], "zone_type": ["permanent_basic_farmland", "other"],
            "level": [1, 3], "unit": ["镇国土所", None], "name": ["东片", "西片"]}
    data.update(over)
    return _write(tmp_path, name, data, [box(X0, Y0, X0 + 100, Y0 + 100),
                                         box(X0 + 200, Y0, X0 + 300, Y0 + 100)])


def test_load_zones_standard_columns_and_types(tmp_path: Path) -> None:
    zones = load_zones(_zones(tmp_path))
    assert list(zones.columns) == ["zone_id", "zone_type", "level", "unit", "name", "geometry"]
    assert zones["zone_id"].tolist() == ["Z1", "Z2"]
    assert zones["level"].tolist() == [1, 3] and zones["level"].dtype.kind == "i"
    assert zones["unit"].tolist() == ["镇国土所", None]
    assert zones.crs == UTM
    assert zones.geometry.area.tolist() == pytest.approx([10_000.0, 10_000.0])


@pytest.mark.parametrize("name,driver", [("zones.geojson", "GeoJSON"), ("zones.shp", None)])
def test_load_zones_other_formats_reprojected(tmp_path: Path, name: str, driver: str | None) -> None:
    path = _zones(tmp_path, name)
    if name.endswith(".geojson"):  # GeoJSON is lon/lat: rewrite it in EPSG:4326
        gpd.read_file(path).to_crs(4326).to_file(path, driver="GeoJSON")
    zones = load_zones(path, target_crs="EPSG:3857")
    assert zones.crs == "EPSG:3857"
    back = zones.to_crs(UTM)
    assert back.geometry.area.tolist() == pytest.approx([10_000.0, 10_000.0], rel=1e-6)


def test_column_map_yaml_with_chinese_columns_and_values(tmp_path: Path) -> None:
    path = _write(tmp_path, "基本农田.gpkg",
                  {"图斑编号": [101, 102, 103], "管控类型": ["永久基本农田", "耕地", "水源地"],
                   "巡查级别": ["一级", "2", "重点"], "责任单位": ["甲", "乙", "丙"]},
                  [box(X0, Y0, X0 + 10, Y0 + 10)] * 3)
    cmap_path = tmp_path / "columns.yaml"
    cmap_path.write_text(
        "columns:\n  zone_id: 图斑编号\n  zone_type: 管控类型\n  level: 巡查级别\n  unit: 责任单位\n"
        "zone_types:\n  水源地: ecological_redline\nlevels:\n  重点: 1\n", encoding="utf-8")
    zones = load_zones(path, columns=load_column_map(cmap_path))
    assert zones["zone_id"].tolist() == ["101", "102", "103"]
    assert zones["zone_type"].tolist() == ["permanent_basic_farmland", "general_farmland",
                                           "ecological_redline"]
    assert zones["level"].tolist() == [1, 2, 1]
    assert zones["unit"].tolist() == ["甲", "乙", "丙"]
    assert zones["name"].tolist() == [None, None, None]


def test_builtin_chinese_aliases_cover_every_type() -> None:
    aliases = ColumnMap().type_aliases()
    for zh, std in {"永久基本农田": "permanent_basic_farmland", "一般耕地": "general_farmland",
                    "耕地": "general_farmland", "生态保护红线": "ecological_redline",
                    "自然保护区": "nature_reserve", "禁采区": "mining_prohibited",
                    "道路": "road_corridor", "城镇开发边界": "urban_planning"}.items():
        assert aliases[zh] == std
    assert set(aliases.values()) <= set(ZONE_TYPES)


def test_example_column_map_loads_and_matches_schema() -> None:
    cmap = load_column_map(SCHEMAS / "column_map.example.yaml")
    assert cmap.columns["zone_id"] == "ZDBH" and cmap.columns["approval_no"] == "PZWH"
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads((SCHEMAS / "column_map.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load((SCHEMAS / "column_map.example.yaml").read_text("utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"zone_types": {"x": "farmland"}}, schema)


@pytest.mark.parametrize("text,fragment", [
    ("columns: [a, b]\n", "mapping"),
    ("colums:\n  zone_id: X\n", "unknown key"),
    ("columns:\n  zone_code: X\n", "zone_code"),
    ("zone_types:\n  耕地: farmland\n", "farmland"),
    ("levels:\n  重点: 5\n", "1, 2 or 3"),
    ("columns: {zone_id: [\n", "cannot parse"),
])
def test_bad_column_map_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=fragment) as err:
        load_column_map(path)
    assert err.value.source == str(path)


def test_bowtie_zone_is_repaired_with_warning(tmp_path: Path) -> None:
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100), (X0, Y0)])
    assert not bowtie.is_valid
    path = _write(tmp_path, "bow.gpkg", {"zone_id": ["B"], "zone_type": ["nature_reserve"], "level": [2]},
                  [bowtie])
    with pytest.warns(ZoneWarning, match=r"repaired 1 invalid"):
        zones = load_zones(path)
    geom = zones.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    assert geom.area == pytest.approx(5_000.0)  # two triangles of 50 m x 100 m / 2 each


def test_null_and_empty_geometries_dropped_with_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "z.gpkg", {"zone_id": ["A", "B", "C"], "zone_type": ["other"] * 3,
                                       "level": [3] * 3}, [box(X0, Y0, X0 + 1, Y0 + 1), None, Polygon()])
    with pytest.warns(ZoneWarning, match="dropped 2"):
        zones = load_zones(path)
    assert zones["zone_id"].tolist() == ["A"]


def test_empty_zones_file_names_the_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(ZoneError, match="no features") as err:
        load_zones(empty)
    assert err.value.source == str(empty) and str(empty) in str(err.value)
    zero = tmp_path / "zero.gpkg"
    zero.touch()
    with pytest.raises(ZoneError, match="empty") as err:
        load_zones(zero)
    assert err.value.source == str(zero)


def test_missing_and_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(ZoneError, match="not found"):
        load_zones(tmp_path / "nope.gpkg")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ZoneError, match="cannot read") as err:
        load_zones(bad)
    assert err.value.source == str(bad)


def test_missing_column_names_it_and_the_column_map(tmp_path: Path) -> None:
    path = _write(tmp_path, "z.gpkg", {"zone_id": ["A"], "DLMC": ["耕地"]}, [box(X0, Y0, X0 + 1, Y0 + 1)])
    with pytest.raises(ZoneError, match=r"missing column 'zone_type'.*column map") as err:
        load_zones(path)
    assert err.value.source == str(path)
    with pytest.raises(ZoneError, match="missing column 'level'"):
        load_zones(path, columns=ColumnMap(columns={"zone_type": "DLMC"}))
    with pytest.raises(ZoneError, match="missing column 'ZRDW'"):  # a mapped optional column
        load_zones(_zones(tmp_path), columns=ColumnMap(columns={"unit": "ZRDW"}))


def test_unknown_zone_type_lists_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(ZoneError, match=r"unknown zone_type.*'farm'.*permanent_basic_farmland"):
        load_zones(_zones(tmp_path, zone_type=["farm", "other"]))


@pytest.mark.parametrize("levels", [[0, 1], [1, 4], [1, None], ["high", 1]])
def test_level_out_of_range(tmp_path: Path, levels: list) -> None:
    with pytest.raises(ZoneError, match="level must be 1, 2 or 3"):
        load_zones(_zones(tmp_path, level=levels))


def test_missing_zone_id_value(tmp_path: Path) -> None:
    with pytest.raises(ZoneError, match="no zone_id"):
        load_zones(_zones(tmp_path, zone_id=["Z1", None]))


def test_no_crs_is_refused(tmp_path: Path) -> None:
    path = _zones(tmp_path, "z.shp")
    path.with_suffix(".prj").unlink()
    with pytest.raises(ZoneError, match="no CRS"):
        load_zones(path)


def test_line_layer_has_no_polygons(tmp_path: Path) -> None:
    path = _write(tmp_path, "l.gpkg", {"zone_id": ["A"], "zone_type": ["other"], "level": [1]},
                  [shapely.LineString([(X0, Y0), (X0 + 5, Y0)])])
    with pytest.raises(ZoneError, match="no polygon"):
        load_zones(path)


def test_load_approvals_dates_and_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "批复.gpkg",
                  {"PZWH": ["苏政地〔2020〕1号", "A-2", "A-3", "A-4"], "PZYT": ["住宅", "工业", "道路", "学校"],
                   "PZRQ": ["2020-05-01", "2021/3/7", "2019年12月31日", None]},
                  [box(X0, Y0, X0 + 10, Y0 + 10)] * 4)
    cmap = ColumnMap(columns={"approval_no": "PZWH", "approved_use": "PZYT", "approved_on": "PZRQ"})
    appr = load_approvals(path, columns=cmap, target_crs=4326)
    assert list(appr.columns) == ["approval_no", "approved_use", "approved_on", "geometry"]
    assert appr["approval_no"].iloc[0] == "苏政地〔2020〕1号"
    assert appr["approved_on"].tolist() == [date(2020, 5, 1), date(2021, 3, 7), date(2019, 12, 31), None]
    assert appr.crs.to_epsg() == 4326


def test_approvals_without_date_column_and_bad_inputs(tmp_path: Path) -> None:
    geom = [box(X0, Y0, X0 + 10, Y0 + 10)]
    ok = _write(tmp_path, "a.gpkg", {"approval_no": ["1"], "approved_use": ["住宅"]}, geom)
    assert load_approvals(ok)["approved_on"].tolist() == [None]
    with pytest.raises(ZoneError, match="missing column 'approval_no'"):
        load_approvals(_write(tmp_path, "b.gpkg", {"approved_use": ["x"]}, geom))
    with pytest.raises(ZoneError, match="not a date"):
        load_approvals(_write(tmp_path, "c.gpkg", {"approval_no": ["1"], "approved_use": ["x"],
                                                   "approved_on": ["soon"]}, geom))
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(ZoneError, match="no features") as err:
        load_approvals(empty)
    assert err.value.source == str(empty)
