"""Synthetic issued batches for the review tests: pinyin/Chinese fields, EPSG:4490, GBK."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from pipeline.ledger import Ledger
from pipeline.ledger.testing import leads_gdf, run_record, square

ISSUED = date(2024, 6, 14)
RUN_DAY = date(2024, 5, 1)


def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str] | None,
        *args: str) -> tuple[int, str, str]:
    """Run ``landpatrol *args`` in-process; (exit code, stdout, stderr) (empty without capsys)."""
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    if capsys is not None:
        capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
    monkeypatch.setenv("COLUMNS", "200")
    rc = run_app(app)
    if capsys is None:
        return rc, "", ""
    out = capsys.readouterr()
    return rc, out.out, out.err


def seed_ledger(url: str) -> dict[str, str]:
    """Three imagery leads: A and B open, C closed as a false positive (far apart)."""
    with Ledger.open(url) as led:
        codes = led.record_run(run_record(after=RUN_DAY), leads_gdf(
            [square(0, 0, 60.0), square(100, 0, 60.0), square(200, 0, 60.0)]), None).created
        c = codes[2]
        led.transition(c, "dispatched", "chief", {"assignee": "zhang"}, today=date(2024, 5, 5))
        led.transition(c, "verified", "zhang", {"outcome": "false_positive", "personnel": "zhang,li"},
                       today=date(2024, 5, 6))
        led.transition(c, "closed", "zhang", {}, today=date(2024, 5, 7))
    return {"A": codes[0], "B": codes[1], "C": codes[2]}


def patch_frame(rows: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    """Rows with pinyin national fields over UTM ``geoms``, reprojected to CGCS2000 (EPSG:4490)."""
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:32650").to_crs("EPSG:4490")


def batch_rows(n: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"JCBH": f"3201152024{start + i:05d}", "XZQDM": "320115", "TBMJ": 5.4 + i,
             "QSX": "20240101", "HSX": "20240520", "PC": "2024年度第1批", "BZ": "疑似新增建设用地"}
            for i in range(n)]


def standard_batch(folder: Path, cpg: bool = True) -> Path:
    """Four patches: over A (most of it), over C (closed), over nothing, and a second over B."""
    geoms = [square(1, 1, 50.0), square(201, 1, 40.0), square(500, 500, 50.0), square(100, 0, 60.0)]
    frame = patch_frame(batch_rows(4), geoms)
    path = folder / "issued.shp"
    frame.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="GBK")
    if not cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path
