"""Leads out of the ledger: GeoJSON / GPKG / CSV, overwrite refusal, `landpatrol leads export`."""
from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from pipeline.errors import OutputError
from pipeline.io.export import export_leads
from pipeline.ledger import Ledger
from pipeline.ledger.testing import leads_gdf, run_record, square


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger.open(url) as led:
        led.record_run(run_record(n=0), leads_gdf([square(0, 0), square(100, 0, 50.0)]), None)
        led.record_run(run_record(region="pukou", n=1, after=date(2024, 7, 1)), leads_gdf([square(300, 0)]), None)
    return url


@pytest.fixture
def frame(ledger_url: str) -> gpd.GeoDataFrame:
    with Ledger.open(ledger_url) as led:
        return led.leads_frame()


def test_geojson_is_rfc7946_in_lonlat(frame: gpd.GeoDataFrame, tmp_path: Path) -> None:
    out = export_leads(frame, tmp_path / "leads.geojson", "geojson")
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3
    assert "crs" not in doc  # RFC 7946: WGS 84 lon/lat, no crs member
    f0 = doc["features"][0]
    props = f0["properties"]
    assert props["code"] == "NANJING-2024-0001" and props["first_seen"] == "2024-05-01"
    assert json.loads(props["zones"])[0]["zone_id"] == "Z1"  # nested values as JSON text
    lon, lat = f0["geometry"]["coordinates"][0][0]
    assert 118 < lon < 120 and 31 < lat < 33
    back = gpd.read_file(out)
    # RFC 7946 writes 7 decimals (~1 cm): same shape within that
    diff = back.geometry.iloc[1].symmetric_difference(frame.geometry.iloc[1]).area
    assert diff / frame.geometry.iloc[1].area < 1e-3


def test_gpkg_round_trip(frame: gpd.GeoDataFrame, tmp_path: Path) -> None:
    out = export_leads(frame, tmp_path / "leads.gpkg", "gpkg")
    back = gpd.read_file(out, layer="leads")
    assert back.crs.to_epsg() == 4326
    assert list(back["code"]) == list(frame["code"])
    assert back["area_m2"].tolist() == pytest.approx(frame["area_m2"].tolist())


def test_csv_has_wkt_and_lonlat(frame: gpd.GeoDataFrame, tmp_path: Path) -> None:
    out = export_leads(frame, tmp_path / "leads.csv", "csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 3
    geom = shapely.from_wkt(rows[2]["geometry"])
    assert geom.equals_exact(frame.geometry.iloc[2], 1e-9)
    assert geom.contains(shapely.Point(float(rows[2]["lon"]), float(rows[2]["lat"])))
    assert json.loads(rows[0]["approvals"]) == []


def test_refuses_to_overwrite_unless_asked(frame: gpd.GeoDataFrame, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "leads.geojson"
    target.write_text("keep me")
    with pytest.raises(OutputError, match="exists") as info:
        export_leads(frame, target, "geojson")
    assert info.value.source == str(target)
    assert target.read_text() == "keep me"
    export_leads(frame.iloc[:1], target, "geojson", overwrite=True)
    assert len(json.loads(target.read_text())["features"]) == 1
    assert [p.name for p in target.parent.iterdir()] == ["leads.geojson"]  # no temp files left


def test_unwritable_or_unknown_target_is_output_error(frame: gpd.GeoDataFrame, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        export_leads(frame, tmp_path / "missing" / "x.geojson", "geojson")
    with pytest.raises(OutputError, match="unknown format"):
        export_leads(frame, tmp_path / "x.shp", "shp")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError):
        export_leads(frame, blocker / "x.csv", "csv")


def test_empty_frame_exports(tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'empty.sqlite'}") as led:
        empty = led.leads_frame()
    out = export_leads(empty, tmp_path / "none.csv", "csv")
    assert out.read_text(encoding="utf-8-sig").startswith("code,")


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
    monkeypatch.setenv("COLUMNS", "200")
    return run_app(app)


def test_cli_leads_export_and_list(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nj.geojson"
    rc = _cli(monkeypatch, "leads", "export", "--ledger", ledger_url, "--format", "geojson",
              "--output", str(out), "--region", "nanjing", "--status", "new")
    assert rc == 0
    assert len(json.loads(out.read_text())["features"]) == 2
    rc = _cli(monkeypatch, "leads", "export", "--ledger", ledger_url, "--format", "gpkg", "--output", str(out))
    err = capsys.readouterr().err
    assert rc == 2 and "exists" in err and str(out) in err and "Traceback" not in err
    rc = _cli(monkeypatch, "leads", "export", "--ledger", ledger_url, "--format", "csv",
              "--output", str(out), "--overwrite")
    assert rc == 0 and out.read_text(encoding="utf-8-sig").startswith("code,")
    rc = _cli(monkeypatch, "leads", "list", "--ledger", ledger_url)
    assert rc == 0 and "PUKOU-2024-0001" in capsys.readouterr().out


def test_cli_unreachable_ledger_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    rc = _cli(monkeypatch, "leads", "export", "--ledger", "sqlite:////nonexistent-dir/x.sqlite",
              "--format", "csv", "--output", str(tmp_path / "x.csv"))
    err = capsys.readouterr().err
    assert rc == 3 and err.count("\n") == 1 and "nonexistent-dir" in err
    assert not (tmp_path / "x.csv").exists()
