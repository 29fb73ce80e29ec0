"""The full-resolution true-colour layers of a run folder (pipeline/web_layers.py)."""
from __future__ import annotations

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from pipeline.grid import Grid
from pipeline.web_layers import WINDOW_PX, _scaled, stretch_limits, write_true_colour

ROLES = ("red", "green", "blue")


class ArrayReader:
    """A stand-in for :class:`pipeline.align.TileReader` over in-memory bands (NaN = no data)."""

    def __init__(self, bands: dict[str, np.ndarray]) -> None:
        self.bands = bands

    def read(self, window: Window, halo: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
        rows, cols = window.toslices()
        out = {r: v[rows, cols].copy() for r, v in self.bands.items()}
        return out, np.logical_and.reduce([np.isfinite(v) for v in out.values()])


def test_true_colour_is_a_lossless_cog_transparent_off_the_data(tmp_path):
    side = WINDOW_PX + 300  # more than one window each way
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    bands = {"red": 0.05 + 0.2 * xx / side, "green": 0.05 + 0.2 * yy / side,
             "blue": np.full((side, side), 0.1, np.float32)}
    bands["red"][1000:1200, 50:400] += 0.3  # a roof
    for v in bands.values():
        v[:, :120] = np.nan  # the swath's edge
    grid = Grid(CRS.from_epsg(32650), Affine(10, 0, 600000, 0, -10, 3600000), side, side)
    stack = np.stack([bands[r] for r in ROLES], axis=-1)
    limits = stretch_limits(stack, stack)
    write_true_colour(ArrayReader(bands), grid, ROLES, limits, tmp_path / "before.tif")
    with rasterio.open(tmp_path / "before.tif") as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.count == 4 and ds.compression.name == "deflate" and ds.overviews(1)
        assert ds.transform == grid.transform and ds.crs == grid.crs
        shown = ds.dataset_mask() > 0  # the alpha band
        assert not shown[:, :120].any() and shown[:, 120:].all()
        got = ds.read()
    # lossless: exactly the stretched pixels (lossy JPEG was measured on real Sentinel-2 dates
    # and kept out: benchmarks/README.md)
    assert np.array_equal(got, _scaled(bands, ROLES, limits))
