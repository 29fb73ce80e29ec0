"""SQLite's R*Tree over the leads' boxes (revision 0011): kept in step with ``leads`` by
triggers, and matching through it finds exactly the candidates the bounding-box scan finds."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from sqlalchemy import text

from pipeline.ledger import Ledger, matching
from pipeline.ledger.testing import UTM_CRS, leads_gdf, run_record, square

BOXES = "SELECT id, minx, maxx, miny, maxy FROM {} ORDER BY id"


def _ledger(tmp_path: Path, n: int = 60) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    rng = np.random.default_rng(3)
    geoms = [square(float(c), float(r), float(s)) for c, r, s in
             zip(rng.integers(0, 200, n), rng.integers(0, 200, n), rng.uniform(20, 120, n))]
    with Ledger.open(url) as led:
        led.record_run(run_record(n=0), leads_gdf(geoms))
    return url


def _tables(url: str) -> tuple[list[tuple], list[tuple]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute(BOXES.format("leads")).fetchall(), db.execute(BOXES.format("leads_rtree")).fetchall()


def _contains(outer: tuple, inner: tuple) -> bool:
    return outer[0] == inner[0] and outer[1] <= inner[1] and outer[2] >= inner[2] \
        and outer[3] <= inner[3] and outer[4] >= inner[4]


def test_every_lead_is_in_the_rtree_and_kept_in_step(tmp_path):
    url = _ledger(tmp_path)
    leads, boxes = _tables(url)
    assert len(leads) == 60 and len(boxes) == 60
    assert all(_contains(b, lead) for b, lead in zip(boxes, leads))  # float32, rounded outwards
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:  # a moved lead, a deleted one
        db.execute("UPDATE leads SET minx = minx - 0.5, maxx = maxx + 0.5 WHERE id = 1")
        db.execute("DELETE FROM leads WHERE id = 2")
    leads, boxes = _tables(url)
    assert [b[0] for b in boxes] == [lead[0] for lead in leads] and 2 not in {b[0] for b in boxes}
    assert all(_contains(b, lead) for b, lead in zip(boxes, leads))


def test_matching_through_the_rtree_finds_what_the_scan_finds(tmp_path, monkeypatch):
    url = _ledger(tmp_path)
    rng = np.random.default_rng(5)
    probes = gpd.GeoSeries([square(float(c), float(r), float(s)) for c, r, s in
                            zip(rng.integers(-20, 220, 80), rng.integers(-20, 220, 80),
                                rng.uniform(5, 200, 80))], crs=UTM_CRS).to_crs(matching.STORAGE_CRS)
    with Ledger.open(url) as led:
        region = led.read(lambda c: c.execute(text("SELECT region FROM leads LIMIT 1")).scalar())

        def candidates(conn):
            return [[c["id"] for c in matching.open_lead_candidates(conn, region, g)] for g in probes]

        assert led.read(matching.has_rtree)
        indexed = led.read(candidates)
        key = led.engine.url.render_as_string(hide_password=False)
        monkeypatch.setitem(matching._INDEXED, key, False)
        scanned = led.read(candidates)
    assert indexed == scanned and sum(map(len, indexed)) > 20


def test_a_ledger_from_before_gets_its_rtree_filled(tmp_path):
    from alembic import command

    from pipeline.ledger import migrate

    url = _ledger(tmp_path)
    with Ledger.open(url) as led, led.engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0010")
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'leads_rtree'")).scalar() == 0
    matching._INDEXED.clear()
    with Ledger.open(url) as led:  # upgraded in place
        assert led.read(matching.has_rtree)
    leads, boxes = _tables(url)
    assert len(boxes) == len(leads) == 60 and all(_contains(b, lead) for b, lead in zip(boxes, leads))


@pytest.fixture(autouse=True)
def _fresh_cache():
    matching._INDEXED.clear()
    yield
    matching._INDEXED.clear()
