"""The shared illustrative batch (Shapefile, EPSG:4490, GBK, pinyin fields) over a ledger that
ran the Nanjing pair: import, reconcile, and agreement with `leads export`."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio
from shapely.geometry import box

from tests.review_fixtures import cli

TILES = Path(__file__).resolve().parents[1] / "data" / "demo" / "nanjing" / "tiles"
ISSUED = "2002-10-15"


@pytest.fixture(scope="module")
def nanjing_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger that ran the Nanjing pair with one zone over the whole scene."""
    folder = tmp_path_factory.mktemp("nanjing")
    tiles = sorted(TILES.glob("*.tif"))
    with rasterio.open(tiles[0]) as ds:
        bounds, crs = ds.bounds, ds.crs
    zones = gpd.GeoDataFrame([{"zone_id": "ALL", "zone_type": "general_farmland", "level": 2,
                               "unit": "county", "name": "whole scene"}],
                             geometry=[box(*bounds)], crs=crs).to_crs(4326)
    zones.to_file(folder / "zones.geojson", driver="GeoJSON")
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    mp = pytest.MonkeyPatch()
    try:
        rc, _, err = cli(mp, None, "run", "--before", str(tiles[0]), "--after", str(tiles[1]),
                         "--zones", str(folder / "zones.geojson"), "--sensor", "landsat-tm",
                         "--region", "NJ", "--ledger", url, "--out", str(folder / "runs"))
    finally:
        mp.undo()
    assert rc == 0, err
    return folder


def test_shared_batch_reconciles_with_the_leads_export(shared_data: Path, nanjing_ledger: Path,
                                                      monkeypatch, capsys) -> None:
    batch = shared_data / "inspection" / "nanjing_2002" / "nanjing_2002_issued.shp"
    url = f"sqlite:///{nanjing_ledger / 'ledger.sqlite'}"
    rc, out, err = cli(monkeypatch, capsys, "review", "import", str(batch), "--batch", "2002-1",
                       "--issued-on", ISSUED, "--ledger", url)
    assert rc == 0, err
    rc, out, err = cli(monkeypatch, capsys, "review", "import", str(batch), "--batch", "2002-1",
                       "--issued-on", ISSUED, "--ledger", url)
    assert rc == 0 and "nothing new" in out
    rec = nanjing_ledger / "rec.json"
    rc, out, err = cli(monkeypatch, capsys, "review", "reconcile", "--batch", "2002-1", "--json",
                       str(rec), "--ledger", url)
    assert rc == 0, err
    doc = json.loads(rec.read_text(encoding="utf-8"))
    assert doc["totals"]["patches"] == 12
    export = nanjing_ledger / "leads.geojson"
    rc, _, err = cli(monkeypatch, capsys, "leads", "export", "--format", "geojson", "--output",
                     str(export), "--overwrite", "--ledger", url)
    assert rc == 0, err
    leads = gpd.read_file(export).set_index("code")
    issued = gpd.read_file(batch).to_crs(4326).set_index("JCBH")
    found = 0
    for p in doc["patches"]:
        lead = leads.loc[p["lead_code"]]
        assert lead["status"] == p["status"]
        assert lead.geometry.intersects(issued.loc[p["patch_no"]].geometry)
        if p["found_by_landpatrol"]:
            found += 1
            assert str(lead["first_seen"])[:10] == p["found_on"] == "2002-07-12"
            assert p["days_ahead"] == 95 and lead["source"] == "imagery"
        else:
            assert lead["source"] == "satellite_inspection" and p["days_ahead"] is None
    assert found == doc["totals"]["found_before"]
    # the 8 patches over labelled change were seen by the run
    change = [p for p in doc["patches"] if int(p["patch_no"][-3:]) <= 8]
    assert sum(p["found_by_landpatrol"] for p in change) >= 6, doc["totals"]
    assert sum(p["found_by_landpatrol"] for p in doc["patches"] if p not in change) <= 1


def test_dossier_shows_the_patch_over_both_dates_imagery(shared_data: Path, nanjing_ledger: Path,
                                                        monkeypatch, capsys, tmp_path: Path) -> None:
    from tests.pdfcheck import fonts_embedded, need_poppler, pages_text, render_pages

    need_poppler()
    batch = shared_data / "inspection" / "nanjing_2002" / "nanjing_2002_issued.shp"
    url = f"sqlite:///{nanjing_ledger / 'ledger.sqlite'}"
    assert cli(monkeypatch, capsys, "review", "import", str(batch), "--batch", "2002-1",
               "--issued-on", ISSUED, "--ledger", url)[0] == 0
    pdf = tmp_path / "d.pdf"
    rc, _, err = cli(monkeypatch, capsys, "review", "dossier", "320115200208001", "--output", str(pdf),
                     "--runs", str(nanjing_ledger / "runs"), "--ledger", url)
    assert rc == 0, err
    first = pages_text(pdf)[0]
    assert "320115200208001" in first and "疑似新增建设用地" in first
    assert "前时相 2000-05-03" in first and "后时相 2002-07-12" in first and "无覆盖" not in first
    fonts_embedded(pdf)
    page = render_pages(pdf, tmp_path)[0].astype(float)
    # the imagery makes the first page colourful (a page of text and outlines is grey)
    saturation = page.max(axis=2) - page.min(axis=2)
    assert (saturation > 40).mean() > 0.03
