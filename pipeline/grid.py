"""The pixel grid a pair is compared on: CRS, affine transform and shape.

Pure geometry, no I/O (like odc-geo's ``GeoBox``). Areas are only meaningful on a projected
grid; :func:`pipeline.align.pair_grid` guarantees that for every grid it hands out.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window


@dataclass(frozen=True)
class Grid:
    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size (x, y) in CRS units, both positive."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def pixel_area(self) -> float:
        """Area of one pixel in CRS units squared (m2 on a projected metric grid)."""
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in CRS units."""
        t = self.transform
        xs = (t.c, t.c + t.a * self.width)
        ys = (t.f, t.f + t.e * self.height)
        return (min(xs), min(ys), max(xs), max(ys))

    def window_transform(self, window: Window) -> Affine:
        return self.transform @ Affine.translation(window.col_off, window.row_off)

    def blocks(self, size: int = 1024) -> Iterator[Window]:
        """Row-major windows of at most ``size`` x ``size`` covering the grid exactly once."""
        for row in range(0, self.height, size):
            for col in range(0, self.width, size):
                yield Window(col, row, min(size, self.width - col), min(size, self.height - row))

    def n_blocks(self, size: int = 1024) -> int:
        return -(-self.height // size) * -(-self.width // size)
