"""Outputs others open without fixing: CSV with BOM and Chinese headers, XLSX, the class raster
as a styled COG, GeoPackage layer styles for QGIS, GeoJSON names, a STAC Item per run."""
from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import rasterio

from pipeline.io.export import export_leads
from pipeline.ledger import Ledger
from pipeline.ledger.testing import leads_gdf, run_record, square
from pipeline.runner import PairRequest, run_pair
from tests.scenes import make_scene


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the synthetic scene, outputs in Chinese (the default language)."""
    root = tmp_path_factory.mktemp("formats")
    scene = make_scene(root / "scene")
    mp = pytest.MonkeyPatch()
    mp.setenv("LANDPATROL_LANG", "zh")
    try:
        report = run_pair(PairRequest(
            before=scene.before, after=scene.after, zones=scene.zones, approvals=scene.approvals,
            ledger_url=f"sqlite:///{root / 'ledger.sqlite'}", out_dir=root / "out",
            region="testville", region_code="TV"))
    finally:
        mp.undo()
    assert report.created == ["TV-2024-0001"]
    return Path(report.out_dir)


@pytest.fixture
def frame(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger.open(url) as led:
        led.record_run(run_record(n=0), leads_gdf([square(0, 0), square(100, 0, 50.0)]), None)
        return led.leads_frame()


def test_run_csv_is_utf8_with_bom_and_chinese_headers(run_folder: Path) -> None:
    raw = (run_folder / "leads.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 1
    row = rows[0]
    assert row["图斑编号"] == "TV-2024-0001"
    assert row["变化类型"] == "新增建筑/硬化"
    assert float(row["面积（平方米）"]) > 0 and json.loads(row["涉及保护区"])[0]["level"] == 1
    assert row["几何（WKT）"].startswith(("POLYGON", "MULTIPOLYGON"))


def test_run_xlsx_opens_with_chinese_intact(run_folder: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(run_folder / "leads.xlsx", read_only=True)
    sheet = book.active
    assert sheet.title == "图斑台账"
    rows = list(sheet.iter_rows(values_only=True))
    head, first = rows[0], dict(zip(rows[0], rows[1]))
    assert "图斑编号" in head and "几何（WKT）" not in head and len(rows) == 2
    assert first["图斑编号"] == "TV-2024-0001" and first["变化类型"] == "新增建筑/硬化"
    assert isinstance(first["面积（平方米）"], (int, float)) and isinstance(first["优先级"], int)
    assert 118 < first["经度"] < 120


def test_class_raster_is_a_cog_with_colours_and_category_names(run_folder: Path) -> None:
    path = run_folder / "change_class.tif"
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        cmap = ds.colormap(1)
        assert cmap[2][:3] == (215, 25, 28) and cmap[3][:3] == (43, 131, 186)
        assert ds.descriptions[0] == "变化类型"
        assert ds.tags(1)["CLASS_2"] == "construction: 新增建筑/硬化"
        assert 2 in set(ds.read(1).ravel().tolist())  # the planted building
    pam = ET.parse(path.with_name("change_class.tif.aux.xml")).getroot()
    names = [c.text for c in pam.iter("Category")]
    assert names[0] == "无变化" and names[2] == "新增建筑/硬化" and len(names) == 6
    if shutil.which("gdalinfo"):  # GDAL itself shows the colours and the categories
        info = subprocess.run(["gdalinfo", str(path)], capture_output=True, text=True,
                              check=True).stdout
        assert "ColorInterp=Palette" in info and "Color Table" in info
        assert "Categories:" in info and "2: 新增建筑/硬化" in info
        assert "GDALRasterAttributeTable" in info


def test_run_geopackage_carries_qgis_styles(run_folder: Path) -> None:
    import geopandas as gpd

    con = sqlite3.connect(run_folder / "leads.gpkg")
    try:
        styles = con.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, "
                             "styleSLD, useAsDefault FROM layer_styles ORDER BY id").fetchall()
        registered = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                                 "'layer_styles'").fetchone()
        geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = "
                           "'leads'").fetchone()[0]
    finally:
        con.close()
    assert registered == ("attributes",)
    assert [(s[0], s[1], s[2], s[5]) for s in styles] == [("leads", geom, "priority", 1),
                                                          ("leads", geom, "status", 0)]
    qml = ET.fromstring(styles[0][3].split("\n", 1)[1])
    renderer = qml.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "priority"
    cats = [(c.get("value"), c.get("label")) for c in renderer.iter("category")]
    assert cats[0] == ("1", "一级（最急）") and len(cats) == 4
    status = ET.fromstring(styles[1][3].split("\n", 1)[1])
    assert [c.get("value") for c in status.iter("category")][:2] == ["new", "dispatched"]
    sld = ET.fromstring(styles[0][4].encode("utf-8"))
    ns = {"ogc": "http://www.opengis.net/ogc"}
    assert [e.text for e in sld.iterfind(".//ogc:Literal", ns)] == ["1", "2", "3", "4"]
    back = gpd.read_file(run_folder / "leads.gpkg", layer="leads")  # still a plain layer
    assert list(back["code"]) == ["TV-2024-0001"]


def test_run_has_a_stac_item_listing_its_assets(run_folder: Path) -> None:
    import pystac
    from pystac.validation import validate_dict

    item = pystac.Item.from_file(str(run_folder / "item.json"))
    assert item.id == run_folder.name
    assert item.properties["start_datetime"].startswith("2024-03-01")
    assert str(item.datetime.date()) == item.properties["end_datetime"][:10]
    keys = set(item.assets)
    assert {"leads_gpkg", "leads_csv", "leads_xlsx", "score_tif", "change_class_tif",
            "quicklook_png", "run_json", "chip_TV-2024-0001"} <= keys
    for asset in item.assets.values():  # every asset is a file in the folder
        assert (run_folder / asset.href).is_file(), asset.href
    assert item.properties["proj:code"] == "EPSG:32650"
    assert item.properties["landpatrol:leads"] == 1
    lon0, lat0, lon1, lat1 = item.bbox
    assert 118 < lon0 < lon1 < 120 and 31 < lat0 < lat1 < 33
    doc = item.to_dict(include_self_link=False)
    doc["stac_extensions"] = []  # extension schemas need the network; the core one ships with pystac
    validate_dict(doc)


def test_geojson_name_is_the_file_stem_not_a_temporary_name(frame, tmp_path: Path) -> None:
    out = export_leads(frame, tmp_path / "nanjing_leads.geojson")
    assert json.loads(out.read_text(encoding="utf-8"))["name"] == "nanjing_leads"


def test_export_headers_follow_the_language(frame, tmp_path: Path) -> None:
    zh = export_leads(frame, tmp_path / "zh.csv", lang="zh")
    en = export_leads(frame, tmp_path / "en.csv", lang="en")
    zh_head = zh.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    en_head = en.read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert zh_head[:3] == ["图斑编号", "区域", "状态"] and en_head[:3] == ["code", "region", "status"]
    rows = list(csv.DictReader(zh.read_text(encoding="utf-8-sig").splitlines()))
    assert {r["状态"] for r in rows} == {"新发现"}


def test_export_xlsx_from_the_ledger_and_cli_refuses_an_unknown_language(
        frame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from openpyxl import load_workbook

    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    out = export_leads(frame, tmp_path / "leads.xlsx", lang="en")
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][0] == "code" and len(rows) == 3
    gpkg = export_leads(frame, tmp_path / "leads.gpkg", lang="en")
    con = sqlite3.connect(gpkg)
    labels = con.execute("SELECT styleQML FROM layer_styles WHERE styleName='status'").fetchone()[0]
    con.close()
    assert 'label="closed"' in labels
    monkeypatch.setattr(sys, "argv", ["landpatrol", "leads", "export", "--ledger", "sqlite:///x",
                                      "--format", "csv", "--output", str(tmp_path / "x.csv"),
                                      "--lang", "fr"])
    assert run_app(app) == 2
    assert "--lang" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_the_run_folders_score_is_the_analysis_score_linked_or_copied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full tile's score COG is ~0.5 GB: the run folder links it where it can, copies it
    where the cache and the folder are on different file systems; the bytes are the same."""
    import errno
    import os

    from pipeline import outputs

    src = tmp_path / "score.tif"
    src.write_bytes(b"II*\x00" + bytes(range(256)) * 64)
    outputs._link_or_copy(src, tmp_path / "linked.tif")
    assert os.stat(tmp_path / "linked.tif").st_ino == os.stat(src).st_ino

    def cross_device(a: object, b: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    outputs._link_or_copy(src, tmp_path / "copied.tif")
    assert os.stat(tmp_path / "copied.tif").st_ino != os.stat(src).st_ino
    assert (tmp_path / "copied.tif").read_bytes() == src.read_bytes()
