"""Helpers for tests of the ledger and of code that feeds it (no pytest import here).

``fresh_ledger_url(kind, tmp_dir)`` gives an empty ledger URL: a SQLite file, or a new
PostgreSQL database created next to ``$LANDPATROL_TEST_PG_URL`` (dropped by
``drop_ledger_url``). The frame builders make leads the way ``screen_patches`` hands them over.
"""
from __future__ import annotations

import os
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import box

from pipeline.classes import m2_to_mu
from pipeline.ledger.records import RunRecord

PG_ENV = "LANDPATROL_TEST_PG_URL"
UTM_CRS = "EPSG:32650"  # Nanjing's UTM zone
ORIGIN = (660_000.0, 3_540_000.0)


def ledger_kinds() -> list[str]:
    """``["sqlite"]`` plus ``"postgresql"`` when ``$LANDPATROL_TEST_PG_URL`` is set."""
    return ["sqlite", "postgresql"] if os.environ.get(PG_ENV) else ["sqlite"]


def fresh_ledger_url(kind: str, tmp_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{Path(tmp_dir) / 'ledger.sqlite'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from pipeline.ledger.engine import parse_url

    admin = parse_url(os.environ[PG_ENV])
    name = f"lp_test_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(os.environ[PG_ENV]).set(database=name).render_as_string(hide_password=False)


def drop_ledger_url(url: str) -> None:
    """Drop a PostgreSQL database made by :func:`fresh_ledger_url` (SQLite files stay in tmp)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from pipeline.ledger.engine import parse_url

    name = make_url(url).database
    eng = create_engine(parse_url(os.environ[PG_ENV]), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


def square(col: float, row: float, size_m: float = 30.0) -> Any:
    """A square of ``size_m`` metres whose lower-left corner is ``(col, row)`` cells of 10 m
    from :data:`ORIGIN`, in :data:`UTM_CRS`."""
    x, y = ORIGIN[0] + col * 10.0, ORIGIN[1] + row * 10.0
    return box(x, y, x + size_m, y + size_m)


def leads_gdf(geoms: list[Any], crs: str = UTM_CRS, zone_level: int = 1, **overrides: Any) -> gpd.GeoDataFrame:
    """A leads frame with every column of ARCHITECTURE.md for ``geoms`` (projected CRS)."""
    rows = []
    for i, g in enumerate(geoms, start=1):
        area = float(g.area)
        row = {
            "patch_id": i, "area_m2": area, "area_mu": m2_to_mu(area), "pixels": int(area / 100),
            "centroid_lon": None, "centroid_lat": None, "score_mean": 0.6, "score_max": 0.9,
            "change_class": "construction",
            "zones": [{"zone_id": "Z1", "zone_type": "permanent_basic_farmland", "level": zone_level,
                       "unit": "unit-1", "name": "farmland", "area_m2": area}],
            "zone_level": zone_level,
            "approvals": [], "approved_share": 0.0, "unapproved_area_m2": area, "priority": 1,
            "priority_score": 80.0,
        }
        row.update(overrides)
        rows.append(row)
    frame = gpd.GeoDataFrame(rows, geometry=list(geoms), crs=crs)
    metric = frame.geometry if frame.crs.is_projected else frame.geometry.to_crs(frame.geometry.estimate_utm_crs())
    pts = metric.centroid.to_crs("EPSG:4326")
    frame["centroid_lon"], frame["centroid_lat"] = pts.x, pts.y
    return frame


def run_record(region: str = "nanjing", n: int = 0, after: date = date(2024, 5, 1),
               **overrides: Any) -> RunRecord:
    """A run of the ``n``-th pair of ``region`` (distinct ``n`` -> distinct pair key)."""
    values: dict[str, Any] = dict(
        region=region, before_path=f"/tiles/{region}/t{n}.tif", before_hash=f"b{n:04d}" * 8,
        before_date=after - timedelta(days=30), after_path=f"/tiles/{region}/t{n + 1}.tif",
        after_hash=f"a{n:04d}" * 8, after_date=after, detector_name="cva", detector_version="1.0",
        parameters={"threshold": 0.5, "min_area_m2": 400}, scene_params={"scale": [1.0, 2.0]},
        before_sensor="landsat-tm", after_sensor="landsat-tm", patches_count=3,
    )
    values.update(overrides)
    return RunRecord(**values)


def record_many(url: str, worker: int, runs: int, shared: tuple[float, float]) -> list[list[str]]:
    """Process body of the concurrency test: ``runs`` runs, each with one patch on the shared
    spot and one patch of its own; returns the codes each run created."""
    from pipeline.ledger.store import Ledger

    out = []
    with Ledger.open(url) as led:
        for k in range(runs):
            own = square(1000 + worker * 100 + k * 10, 1000, 30.0)
            frame = leads_gdf([square(*shared, 50.0), own])
            rec = run_record(n=1000 * (worker + 1) + k, after=date(2024, 6, 1) + timedelta(days=k))
            out.append(led.record_run(rec, frame, None).created)
    return out
