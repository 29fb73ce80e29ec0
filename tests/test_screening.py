"""Screening patches into leads: zone areas across CRSs, approvals, MMU rule, priority."""
from __future__ import annotations

import time
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from pipeline.classes import MU_M2, ChangeClass
from pipeline.screening import PriorityWeights, priority, screen_patches

UTM = "EPSG:32650"
X0, Y0 = 660_000.0, 3_540_000.0
PATCH_COLUMNS = ["patch_id", "area_m2", "area_mu", "pixels", "centroid_lon", "centroid_lat",
                 "score_mean", "score_max", "change_class", "geometry"]


def patches(geoms: list, classes: list[str] | None = None, scores: list[float] | None = None,
            crs: str = UTM) -> gpd.GeoDataFrame:
    n = len(geoms)
    area = np.array([g.area for g in geoms])
    frame = gpd.GeoDataFrame({
        "patch_id": np.arange(1, n + 1), "area_m2": area, "area_mu": area / MU_M2,
        "pixels": np.round(area / 100).astype(int), "centroid_lon": 118.7, "centroid_lat": 32.0,
        "score_mean": scores or [0.6] * n, "score_max": [0.9] * n,
        "change_class": classes or ["construction"] * n}, geometry=geoms, crs=crs)
    return frame[PATCH_COLUMNS]


def zones(geoms: list, types: list[str] | None = None, levels: list[int] | None = None,
          crs: str = UTM) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"zone_id": [f"Z{i}" for i in range(1, n + 1)],
                             "zone_type": types or ["permanent_basic_farmland"] * n,
                             "level": levels or [1] * n, "unit": ["镇国土所"] * n, "name": [None] * n},
                            geometry=geoms, crs=crs)


def approvals(geoms: list, crs: str = UTM) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"approval_no": [f"A{i}" for i in range(1, n + 1)],
                             "approved_use": ["住宅"] * n, "approved_on": [date(2020, 5, 1)] * n},
                            geometry=geoms, crs=crs)


def sq(x: float, y: float, w: float, h: float | None = None) -> shapely.Polygon:
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + (w if h is None else h))


def test_zones_in_wgs84_give_utm_areas() -> None:
    zone_utm = sq(-50, -50, 130, 300).segmentize(5.0)       # dense vertices survive reprojection
    zone_ll = zones([zone_utm]).to_crs(4326)
    assert zone_ll.crs.to_epsg() == 4326
    p = patches([sq(0, 0, 100)])
    leads = screen_patches(p, zone_ll).leads
    assert len(leads) == 1 and leads.crs == UTM
    assert leads["zones"][0][0]["area_m2"] == pytest.approx(80 * 100, abs=1.0)   # x 0..80 inside


def test_patch_in_two_zones_gets_both_areas_summing_to_patch() -> None:
    p = patches([sq(0, 0, 100)])
    z = zones([sq(-100, -100, 130, 400), sq(30, -100, 300, 400)],
              types=["other", "permanent_basic_farmland"], levels=[3, 1])
    lead = screen_patches(p, z).leads.iloc[0]
    got = {item["zone_id"]: item["area_m2"] for item in lead["zones"]}
    assert got == pytest.approx({"Z1": 3_000.0, "Z2": 7_000.0})
    assert sum(got.values()) == pytest.approx(p.geometry.area[0])
    assert [item["level"] for item in lead["zones"]] == [1, 3]             # strictest first
    assert lead["zone_level"] == 1
    assert lead["zone_types"] == "permanent_basic_farmland,other"
    assert lead["zones"][0]["unit"] == "镇国土所" and lead["zones"][0]["name"] is None


def test_zone_split_into_overlapping_features_is_counted_once() -> None:
    z = zones([sq(-50, -50, 110, 300), sq(40, -50, 300, 300)])          # overlap x 40..60
    z["zone_id"] = "Z1"
    z = z.drop(columns=["unit", "name"])                               # optional columns absent
    lead = screen_patches(patches([sq(0, 0, 100)]), z).leads.iloc[0]
    assert len(lead["zones"]) == 1
    assert lead["zones"][0]["area_m2"] == pytest.approx(10_000.0)
    assert lead["zones"][0]["unit"] is None


def test_change_class_as_enum_code_scores_like_its_key() -> None:
    z = zones([sq(-50, -50, 500)])
    as_key = screen_patches(patches([sq(0, 0, 100)], classes=["construction"]), z).leads
    as_code = screen_patches(patches([sq(0, 0, 100)], classes=[int(ChangeClass.CONSTRUCTION)]), z).leads
    assert as_code["priority_score"][0] == as_key["priority_score"][0]


def test_patch_outside_or_only_touching_zones_gives_nothing() -> None:
    p = patches([sq(0, 0, 100), sq(1_000, 0, 50)])
    z = zones([sq(100, 0, 100)])                                 # shares an edge with patch 1
    result = screen_patches(p, z, approvals([sq(1_000, 0, 50)]))
    assert len(result.leads) == 0 and len(result.approved) == 0
    assert list(result.leads.columns[:10]) == PATCH_COLUMNS


def test_wholly_approved_patch_is_an_approved_row_not_a_lead() -> None:
    p = patches([sq(0, 0, 100), sq(300, 0, 100)])
    z = zones([sq(-500, -500, 2_000)])
    result = screen_patches(p, z, approvals([sq(-10, -10, 150)]))
    assert result.leads["patch_id"].tolist() == [2]
    assert len(result.approved) == 1
    row = result.approved.iloc[0]
    assert row["patch_id"] == 1 and row["reason"] == "wholly_approved"
    assert row["approved_share"] == pytest.approx(1.0)
    assert row["approvals"] == [{"approval_no": "A1", "approved_use": "住宅",
                                 "approved_on": "2020-05-01", "area_m2": 10_000.0, "share": 1.0}]
    assert row["zones"][0]["zone_id"] == "Z1"


def test_sixty_percent_approved_patch_stays_a_lead() -> None:
    p = patches([sq(0, 0, 100)])
    z = zones([sq(-500, -500, 2_000)]).to_crs(4326)
    a = approvals([sq(-20, -20, 80, 200)]).to_crs(3857)             # covers x 0..60 of the patch
    result = screen_patches(p, z, a, min_area_m2=400)
    assert len(result.approved) == 0
    lead = result.leads.iloc[0]
    assert lead["approved_share"] == pytest.approx(0.6, abs=0.01)
    assert lead["unapproved_area_m2"] == pytest.approx(4_000.0, rel=0.01)
    assert lead["approvals"][0]["share"] == pytest.approx(0.6, abs=0.01)
    assert lead["exceeds_mmu"] and lead["reason"] == "partly_approved"


def test_overlapping_approvals_are_not_double_counted() -> None:
    p = patches([sq(0, 0, 100)])
    a = approvals([sq(0, 0, 60, 100), sq(20, 0, 40, 100), sq(40, 0, 30, 100)])   # union x 0..70
    lead = screen_patches(p, zones([sq(-50, -50, 500)]), a).leads.iloc[0]
    assert lead["approved_share"] == pytest.approx(0.7)
    assert sorted(item["share"] for item in lead["approvals"]) == pytest.approx([0.3, 0.4, 0.6])


def test_small_unapproved_remainder_is_recorded_as_approved() -> None:
    p = patches([sq(0, 0, 100), sq(300, 0, 100)])
    a = approvals([sq(0, 0, 97, 100), sq(300, 0, 90, 100)])        # remainders 300 and 1000 m2
    result = screen_patches(p, zones([sq(-50, -50, 1_000)]), a, min_area_m2=400)
    assert result.approved["patch_id"].tolist() == [1]
    assert result.approved["reason"].tolist() == ["remainder_below_mmu"]
    assert result.leads["patch_id"].tolist() == [2]
    unapproved_small = screen_patches(patches([sq(0, 0, 10)]), zones([sq(-50, -50, 500)]), None, 400)
    assert len(unapproved_small.leads) == 1 and not unapproved_small.leads["exceeds_mmu"][0]


def test_priority_level1_farmland_construction_outranks_level3_other() -> None:
    p = patches([sq(0, 0, 100), sq(1_000, 0, 100)], classes=["other", "construction"])
    z = zones([sq(-50, -50, 300), sq(950, -50, 300)], types=["other", "permanent_basic_farmland"],
              levels=[3, 1])
    leads = screen_patches(p, z).leads
    assert leads["patch_id"].tolist() == [2, 1]
    assert leads["priority_score"].is_monotonic_decreasing
    assert leads["priority"].tolist()[0] < leads["priority"].tolist()[1]
    assert leads["priority"].tolist()[0] == 1
    assert ((leads["priority_score"] >= 0) & (leads["priority_score"] <= 100)).all()


def test_priority_terms_respond_to_area_score_class_and_weights() -> None:
    big, small = sq(0, 0, 200), sq(1_000, 0, 40)
    z = zones([sq(-100, -100, 2_000)])
    leads = screen_patches(patches([small, big]), z).leads
    assert leads["patch_id"].tolist() == [2, 1]                                   # area counts
    leads = screen_patches(patches([sq(0, 0, 100), sq(500, 0, 100)], scores=[0.3, 0.9]), z).leads
    assert leads["patch_id"].tolist() == [2, 1]                                   # score counts
    leads = screen_patches(patches([sq(0, 0, 100), sq(500, 0, 100)],
                                   classes=["vegetation_loss", "bare_soil"]), z).leads
    assert leads["patch_id"].tolist() == [2, 1]                                   # class counts
    terms = priority(leads)
    assert set(terms.columns) >= {"zone_term", "area_term", "score_term", "class_term"}
    only_zone = PriorityWeights(zone=1.0, area=0.0, score=0.0, change_class=0.0)
    assert priority(leads, only_zone)["priority_score"].tolist() == [100.0, 100.0]


def test_empty_inputs_and_geographic_patches() -> None:
    empty = patches([sq(0, 0, 10)]).iloc[:0]
    result = screen_patches(empty, zones([sq(0, 0, 10)]))
    assert len(result.leads) == 0 and "priority_score" in result.leads.columns
    assert len(screen_patches(patches([sq(0, 0, 10)]), zones([sq(0, 0, 10)]).iloc[:0]).leads) == 0
    with pytest.raises(ValueError, match="projected"):
        screen_patches(patches([sq(0, 0, 10)]).to_crs(4326), zones([sq(0, 0, 10)]))


def test_realistic_scale_is_vectorised_and_exact() -> None:
    """2,000 patches (50 m, every 100 m) x 500 zones (120 m, every 200 m) in another CRS."""
    cols, rows = 50, 40
    ii, jj = np.meshgrid(np.arange(cols), np.arange(rows))
    pgeoms = shapely.box(X0 + 100 * ii.ravel(), Y0 + 100 * jj.ravel(),
                         X0 + 100 * ii.ravel() + 50, Y0 + 100 * jj.ravel() + 50)
    zi, zj = np.meshgrid(np.arange(cols // 2), np.arange(rows // 2))
    zgeoms = shapely.box(X0 + 200 * zi.ravel(), Y0 + 200 * zj.ravel(),
                         X0 + 200 * zi.ravel() + 120, Y0 + 200 * zj.ravel() + 120)
    p = patches(list(pgeoms), classes=["construction", "bare_soil"] * 1_000)
    z = zones(list(zgeoms), types=["permanent_basic_farmland", "general_farmland"] * 250,
              levels=[1, 2] * 250).to_crs(3857)
    ax = X0 + 100 * np.arange(0, cols, 2)                        # over the even row-0 patches
    a = approvals(list(shapely.box(ax, Y0, ax + 50, Y0 + 50)))
    assert len(p) == 2_000 and len(z) == 500
    start = time.perf_counter()
    result = screen_patches(p, z, a)
    print(f"screened 2000 patches x 500 zones in {time.perf_counter() - start:.2f} s")
    # every patch meets exactly one zone: 50 m inside on even rows/cols, 20 m on odd ones
    width = np.where(ii.ravel() % 2 == 0, 50.0, 20.0) * np.where(jj.ravel() % 2 == 0, 50.0, 20.0)
    expected = dict(zip(p["patch_id"], width))
    assert len(result.leads) + len(result.approved) == 2_000
    assert len(result.approved) == cols // 2                       # the approved row-0 patches
    for pid, zl in zip(result.leads["patch_id"], result.leads["zones"]):
        assert len(zl) == 1 and zl[0]["area_m2"] == pytest.approx(expected[pid], rel=1e-3)
    score = result.leads["priority_score"].to_numpy()
    assert (np.diff(score) <= 0).all()
    bands = np.where(score >= 70, 1, np.where(score >= 50, 2, np.where(score >= 30, 3, 4)))
    assert result.leads["priority"].tolist() == bands.tolist() and len(set(bands)) > 1
