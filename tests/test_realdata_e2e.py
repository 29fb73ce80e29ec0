"""The whole path on real imagery from ../shared/data (skipped when absent).

Nanjing (Landsat 5 TM, ENVI, 2000 vs 2002) with the demo's illustrative zones: the leads must
stay inside the zones, cover changed land and leave most unchanged land alone. The partial
masks (change.bmp / unchanged.bmp) are read here only to check, never shipped or tuned on;
the bounds are loose sanity bounds, the measured numbers live in models/README.md.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rasterio.features import rasterize

from pipeline.ledger import Ledger
from pipeline.runner import PairRequest, run_pair
from pipeline.zones import load_zones

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "nanjing"


@pytest.fixture(scope="module")
def nanjing_run(shared_data, tmp_path_factory):
    root = shared_data / "landsat" / "Nanjing"
    tmp = tmp_path_factory.mktemp("nanjing")
    request = PairRequest(
        before=root / "LT51200382000124BJC00_Nanjing", after=root / "LT51200382002193BJC00_Nanjing",
        zones=DEMO / "zones.geojson", approvals=DEMO / "approvals.geojson",
        ledger_url=f"sqlite:///{tmp / 'ledger.sqlite'}", out_dir=tmp / "out", region="nanjing",
        region_code="NJ")
    report = run_pair(request)
    with Ledger.open(request.ledger_url) as ledger:
        leads = ledger.leads_frame()
    return root, request, report, leads


def test_nanjing_envi_pair_yields_leads_inside_zones(nanjing_run):
    root, request, report, leads = nanjing_run
    assert report.before_date == "2000-05-03" and report.after_date == "2002-07-12"
    assert len(report.created) == len(leads) > 0
    utm = leads.estimate_utm_crs()
    zones = load_zones(request.zones, target_crs=utm).union_all()
    outside_m2 = leads.to_crs(utm).geometry.difference(zones).area
    assert (outside_m2 < 1.0).all(), outside_m2[outside_m2 >= 1.0]


def test_nanjing_leads_cover_changed_land_and_spare_unchanged_land(nanjing_run):
    root, request, report, leads = nanjing_run
    import rasterio

    with rasterio.open(root / "LT51200382000124BJC00_Nanjing") as ds:
        transform, shape, crs = ds.transform, (ds.height, ds.width), ds.crs
    zones = load_zones(request.zones, target_crs=crs)
    in_zone = rasterize(zones.geometry, out_shape=shape, transform=transform).astype(bool)
    lead_px = rasterize(leads.to_crs(crs).geometry, out_shape=shape, transform=transform).astype(bool)
    changed = (np.asarray(Image.open(root / "change.bmp").convert("L")) > 127) & in_zone
    unchanged = (np.asarray(Image.open(root / "unchanged.bmp").convert("L")) > 127) & in_zone
    assert changed.sum() > 100 and unchanged.sum() > 100  # the zones do hold labelled land
    detection = (lead_px & changed).sum() / changed.sum()
    false_alarm = (lead_px & unchanged).sum() / unchanged.sum()
    print(f"Nanjing inside demo zones: detection {detection:.3f}, false alarm {false_alarm:.3f}")
    assert detection > 0.5
    assert false_alarm < 0.1


def test_oscd_pair_from_single_band_epsg4326_files(shared_data, tmp_path):
    """An OSCD city (13 single-band EPSG:4326 files a date) goes through the whole path."""
    import geopandas as gpd
    from shapely.geometry import box

    from pipeline.align import pair_grid
    from pipeline.io.tiles import open_tile

    city = shared_data / "oscd" / "images" / "abudhabi"  # imgs_2 on a mismatched grid
    before, after = open_tile(city / "imgs_1"), open_tile(city / "imgs_2")
    grid = pair_grid(before, after)
    zones = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"zone_id": ["Z"], "zone_type": ["urban_planning"], "level": [3]},
                     geometry=[box(*grid.bounds)], crs=grid.crs).to_file(zones, driver="GeoJSON")
    report = run_pair(PairRequest(before=city / "imgs_1", after=city / "imgs_2", zones=zones,
                                  ledger_url=f"sqlite:///{tmp_path / 'l.sqlite'}",
                                  region="abudhabi", out_dir=tmp_path / "out"))
    assert report.before_date == "2016-01-20" and report.after_date == "2018-03-28"
    assert report.created, "a city growing for two years shows change"
    out = Path(report.out_dir)
    assert (out / "quicklook.png").is_file() and (out / "score.tif").is_file()
