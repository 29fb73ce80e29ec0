"""Mask -> patches: clean-up, MMU, labels, polygons and the patch frame (pure, exact)."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from pipeline.classes import MU_M2, ChangeClass
from pipeline.grid import Grid
from pipeline.patches import (
    PATCH_COLUMNS,
    clean_mask,
    empty_patches,
    label_patches,
    patch_frame,
    remove_small,
    vectorise,
)

GRID = Grid(CRS.from_epsg(32650), Affine(10, 0, 660000, 0, -10, 3550000), 100, 80)


def test_columns_match_architecture():
    assert PATCH_COLUMNS == ("patch_id", "area_m2", "area_mu", "pixels", "centroid_lon",
                             "centroid_lat", "score_mean", "score_max", "change_class", "geometry")


def test_clean_mask_keeps_rectangles_drops_specks_and_lines():
    m = np.zeros((60, 60), bool)
    m[10:40, 10:40] = True        # building
    m[50, 5:55] = True            # 1 px line (misregistration edge)
    m[45:47, 45:47] = True        # 2x2 speck
    out = clean_mask(m, 1)
    assert out[10:40, 10:40].all() and out.sum() == 900
    np.testing.assert_array_equal(clean_mask(m, 0), m)
    assert clean_mask(m, 2).sum() == 900


@pytest.mark.parametrize("radius", [1, 2, 3])
def test_clean_mask_is_skimages_square_opening_on_random_masks(radius):
    # the opening by shifted views must be skimage's opening in its default mode, edges included
    from skimage.morphology import footprint_rectangle, opening

    rng = np.random.default_rng(radius)
    k = 2 * radius + 1
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        m = rng.random((h, w)) < rng.uniform(0.1, 0.95)
        np.testing.assert_array_equal(clean_mask(m, radius), opening(m, footprint_rectangle((k, k))))


def test_remove_small_uses_8_connectivity():
    m = np.zeros((20, 20), bool)
    m[1:3, 1:3] = True                   # 4 px
    m[10, 10] = m[11, 11] = m[12, 12] = True  # diagonal chain, 3 px
    m[15:18, 15:18] = True               # 9 px
    assert remove_small(m, 4).sum() == 4 + 9
    assert remove_small(m, 3).sum() == 4 + 3 + 9
    assert remove_small(m, 5).sum() == 9
    np.testing.assert_array_equal(remove_small(m, 1), m)


def test_label_patches_raster_order():
    m = np.zeros((20, 20), bool)
    m[10:12, 1:3] = True
    m[1:3, 15:18] = True
    m[5, 5] = m[6, 6] = True  # diagonal: one patch
    labels, n = label_patches(m)
    assert n == 3 and labels.dtype == np.int32
    assert labels[1, 15] == 1 and labels[5, 5] == 2 and labels[6, 6] == 2 and labels[10, 1] == 3


def test_vectorise_one_geometry_per_label_with_exact_area():
    m = np.zeros(GRID.shape, bool)
    m[10:40, 20:50] = True
    m[15:20, 25:30] = False          # a hole
    m[60, 60] = m[61, 61] = True     # diagonal pair -> MultiPolygon
    labels, n = label_patches(m)
    gdf = vectorise(labels, GRID)
    assert list(gdf.patch_id) == [1, 2] and gdf.crs == GRID.crs
    assert gdf.geometry.iloc[0].area == pytest.approx((900 - 25) * GRID.pixel_area)
    assert len(gdf.geometry.iloc[0].interiors) == 1
    assert gdf.geometry.iloc[1].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[1].area == pytest.approx(2 * GRID.pixel_area)
    assert gdf.geometry.is_valid.all()
    x0, y0 = GRID.transform @ (20, 10)
    assert gdf.geometry.iloc[0].bounds == pytest.approx((x0, y0 - 300, x0 + 300, y0))


def test_patch_frame_columns_units_and_centroid():
    m = np.zeros(GRID.shape, bool)
    m[10:40, 20:50] = True
    # a U shape whose centroid falls outside it
    m[50:70, 60:64] = True
    m[50:70, 80:84] = True
    m[66:70, 60:84] = True
    labels, n = label_patches(m)
    geoms = vectorise(labels, GRID).geometry
    stats = {"pixels": [900, int((labels == 2).sum())], "score_mean": [0.8, 0.7],
             "score_max": [0.99, 0.9], "change_class": [ChangeClass.CONSTRUCTION, 3]}
    df = patch_frame(geoms, stats, GRID)
    assert tuple(df.columns) == PATCH_COLUMNS
    assert df.crs == GRID.crs and list(df.patch_id) == [1, 2]
    assert df.area_m2.iloc[0] == pytest.approx(90000.0)
    assert df.area_mu.iloc[0] == pytest.approx(90000.0 / MU_M2)
    assert list(df.change_class) == ["construction", "water"]
    to_utm = Transformer.from_crs("EPSG:4326", GRID.crs, always_xy=True)
    for i in range(2):
        x, y = to_utm.transform(df.centroid_lon.iloc[i], df.centroid_lat.iloc[i])
        assert df.geometry.iloc[i].contains(shapely.Point(x, y))
    cx, cy = to_utm.transform(df.centroid_lon.iloc[0], df.centroid_lat.iloc[0])
    c = df.geometry.iloc[0].centroid
    assert (cx, cy) == pytest.approx((c.x, c.y), abs=1e-3)
    assert 110 < df.centroid_lon.iloc[0] < 120 and 30 < df.centroid_lat.iloc[0] < 35


def test_empty_frame():
    df = empty_patches(GRID)
    assert len(df) == 0 and tuple(df.columns) == PATCH_COLUMNS and df.crs == GRID.crs
