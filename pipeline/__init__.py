"""landpatrol: change detection on satellite and drone tiles for land-enforcement patrols.

The library is layered like rasterio: flat public modules of pure functions on arrays and
frames in the middle (``align``, ``patches``, ``zones``, ``priority``), I/O at the edges
(``pipeline.io``, ``pipeline.ledger``), Prefect only in ``flows/``, detectors in ``models/``.
"""
from __future__ import annotations

__version__ = "0.1.0"
