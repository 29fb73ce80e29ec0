"""Evidence pictures: sizes, outlines where the lead is, shared stretch, NaN safety."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine
from PIL import Image
from rasterio.crs import CRS
from shapely.geometry import box

from pipeline.errors import ConfigError, OutputError
from pipeline.evidence import (
    GAP,
    HEADER,
    PRIORITY_COLOURS,
    _caption,
    array_transform,
    stretch_pair,
    write_chips,
    write_quicklook,
)
from pipeline.grid import Grid

CRS_UTM = CRS.from_epsg(32650)
T = Affine(10, 0, 600000, 0, -10, 3500000)  # 10 m pixels
RED = PRIORITY_COLOURS[1]


def _grey(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """Grey (r = g = b) texture: no pixel of it can be an outline colour after stretching."""
    v = np.random.default_rng(seed).uniform(0.05, 0.4, (rows, cols)).astype(np.float32)
    return np.repeat(v[..., None], 3, axis=2)


def _lead(c0: int, r0: int, c1: int, r1: int, transform: Affine = T, **attrs: object) -> dict:
    x0, y0 = transform @ (c0, r0)
    x1, y1 = transform @ (c1, r1)
    return {"geometry": box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), **attrs}


def _frame(*leads: dict) -> gpd.GeoDataFrame:
    if not leads:
        return gpd.GeoDataFrame({"code": [], "geometry": []}, geometry="geometry", crs=CRS_UTM)
    return gpd.GeoDataFrame(list(leads), geometry="geometry", crs=CRS_UTM)


def _is(img: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return np.all(img == np.array(colour, np.uint8), axis=-1)


def test_stretch_is_shared_between_dates_and_nan_safe() -> None:
    before = _grey(20, 30)
    after = before.copy()
    after[:5] = np.nan
    after[5:10] = before[5:10] * 2
    b8, a8 = stretch_pair(before, after)
    assert b8.dtype == np.uint8 and b8.shape == before.shape
    np.testing.assert_array_equal(b8[10:], a8[10:])      # same ground, same colour
    assert (a8[:5] == 0).all()                           # NaN -> black
    assert a8[5:10].mean() > b8[5:10].mean()             # brighter after stays brighter
    allnan = np.full_like(before, np.nan)
    nb, na = stretch_pair(allnan, allnan)
    assert not nb.any() and not na.any()
    with pytest.raises(ConfigError):
        stretch_pair(before, before[:, :, :2])


def test_array_transform_rescales_grid_to_decimated_arrays() -> None:
    grid = Grid(CRS_UTM, T, width=240, height=200)
    assert array_transform(grid, (200, 240, 3)) == T
    assert array_transform(grid, (100, 120, 3)) == T @ Affine.scale(2)
    assert array_transform(T, (1, 1, 3)) == T


def test_quicklook_small_scene_outlines_lead_on_both_sides(tmp_path: Path) -> None:
    rows, cols = 100, 120
    leads = _frame(_lead(40, 30, 60, 50, code="NJ-2002-0001", priority=1))
    path = write_quicklook(_grey(rows, cols), _grey(rows, cols, 1), leads,
                           Grid(CRS_UTM, T, cols, rows), tmp_path / "q" / "quick.png",
                           dates=("2000-05-03", "2002-07-12"))
    img = np.asarray(Image.open(path).convert("RGB"))
    k = (img.shape[1] - GAP) // (2 * cols)
    assert 1 <= k <= 4 and img.shape == (rows * k + HEADER, 2 * cols * k + GAP, 3)
    red = _is(img, RED)
    for x0 in (0, cols * k + GAP):
        left_edge = red[HEADER + 32 * k: HEADER + 48 * k, x0 + 40 * k - 2: x0 + 40 * k + 2]
        assert left_edge.any(axis=1).all()               # the whole left side is drawn
        inside = red[HEADER + 35 * k: HEADER + 45 * k, x0 + 45 * k: x0 + 55 * k]
        assert not inside.any()                          # outline only, not a fill
    assert not red[HEADER + 70 * k:].any()               # nothing far from the lead


def test_quicklook_large_scene_fits_max_width_and_decimated_input_matches(tmp_path: Path) -> None:
    rows, cols = 300, 1000
    grid = Grid(CRS_UTM, T, cols, rows)
    leads = _frame(_lead(500, 100, 600, 200, code="A", priority=2))
    full = write_quicklook(_grey(rows, cols), _grey(rows, cols, 1), leads, grid,
                           tmp_path / "full.png", max_width=1600)
    with Image.open(full) as im:
        panel_w = (im.width - GAP) // 2
        assert 1590 <= im.width <= 1600 and im.height == HEADER + round(rows * panel_w / cols)
    small = [a[::2, ::2] for a in (_grey(rows, cols), _grey(rows, cols, 1))]
    by_grid = write_quicklook(*small, leads, grid, tmp_path / "g.png")
    by_affine = write_quicklook(*small, leads, T @ Affine.scale(2), tmp_path / "a.png")
    a, b = (np.asarray(Image.open(p).convert("RGB")) for p in (by_grid, by_affine))
    np.testing.assert_array_equal(a, b)
    assert _is(a, PRIORITY_COLOURS[2]).any()


def test_quicklook_all_nan_before_and_no_leads(tmp_path: Path) -> None:
    before = np.full((40, 50, 3), np.nan, np.float32)
    path = write_quicklook(before, _grey(40, 50), _frame(), T, tmp_path / "q.png")
    img = np.asarray(Image.open(path).convert("RGB"))
    k = (img.shape[1] - GAP) // 100
    assert not img[HEADER:, : 50 * k].any()              # no data -> black panel
    assert img[HEADER:, 50 * k + GAP:].any()


def test_chips_per_lead(tmp_path: Path) -> None:
    rows, cols = 200, 200
    before, after = _grey(rows, cols), _grey(rows, cols, 1)
    before[:20, :20] = np.nan
    leads = _frame(
        _lead(100, 100, 103, 102, code="NJ-2002-0001", priority=1, area_m2=600.0,
              area_mu=0.9, change_class="construction"),
        _lead(2, 2, 30, 12, patch_id=7, priority=3, area_m2=2800.0, area_mu=4.2,
              change_class="bare_soil"),
        _lead(500, 500, 510, 510, code="OUTSIDE", priority=1),       # off the arrays
    )
    out = write_chips(before, after, leads, Grid(CRS_UTM, T, cols, rows), tmp_path / "chips",
                      pad_px=16, dates=("2000-05-03", "2002-07-12"))
    assert set(out) == {"NJ-2002-0001", "patch-7"}
    assert out["NJ-2002-0001"].name == "NJ-2002-0001.png" and out["patch-7"].exists()
    img = np.asarray(Image.open(out["NJ-2002-0001"]).convert("RGB"))
    # a 3 x 2 px lead: window of min 64 px, enlarged by round(256 / 64) = 4 with nearest
    chip_w = (img.shape[1] - GAP) // 2
    assert chip_w == 64 * 4 and img.shape[0] > 64 * 4
    red = _is(img[: 64 * 4], RED)
    assert red[:, :chip_w].any() and red[:, chip_w + GAP:].any()
    ys, xs = np.nonzero(red[:, :chip_w])
    # the outline sits in the middle of the chip (the lead is centred), 3 x 2 px * 4
    assert abs(xs.mean() - chip_w / 2) <= 4 and abs(ys.mean() - chip_w / 2) <= 4
    assert xs.max() - xs.min() <= 3 * 4 + 2 and ys.max() - ys.min() <= 2 * 4 + 2
    corner = np.asarray(Image.open(out["patch-7"]).convert("RGB"))
    assert _is(corner, PRIORITY_COLOURS[3]).any()


def test_big_lead_chip_is_capped(tmp_path: Path) -> None:
    leads = _frame(_lead(0, 0, 900, 900, code="BIG", priority=4))
    out = write_chips(_grey(1000, 1000), _grey(1000, 1000, 1), leads, T, tmp_path, max_px=300)
    with Image.open(out["BIG"]) as im:
        assert (im.width - GAP) // 2 <= 300


def test_captions() -> None:
    row = {"area_m2": 1333.34, "area_mu": 2.0, "change_class": "construction", "priority": 1,
           "before_date": "2000-05-03", "after_date": "2002-07-12"}
    ascii_lines = _caption(row, "NJ-2002-0001", (None, None), cjk=False)
    assert "NJ-2002-0001" in ascii_lines[0] and "construction" in ascii_lines[0]
    assert "1,333 m2 / 2.00 mu" in ascii_lines[1] and "2000-05-03 -> 2002-07-12" in ascii_lines[1]
    assert all(line.isascii() for line in ascii_lines)
    zh = _caption(row | {"priority": float("nan")}, "NJ-2002-0001", (None, None), cjk=True)
    assert "新增建筑/硬化" in zh[0] and "优先级" not in zh[0] and "2.00 亩" in zh[1]


def test_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_chips(_grey(10, 10), _grey(10, 10), _frame(), T, blocker / "chips")
    with pytest.raises(OutputError):
        write_quicklook(_grey(10, 10), _grey(10, 10), _frame(), T, blocker / "q.png")
