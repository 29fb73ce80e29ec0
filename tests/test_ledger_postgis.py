"""PostGIS (revision 0009): a real geometry column with a GiST index, kept in step with geom_wkb,
and matching through it gives the same leads as the bounding-box path on SQLite."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from pipeline.ledger import Ledger
from pipeline.ledger.matching import best_open_lead, has_postgis
from pipeline.ledger.testing import (
    PG_ENV,
    drop_ledger_url,
    fresh_ledger_url,
    leads_gdf,
    run_record,
    square,
)


def _postgis_available() -> bool:
    if not os.environ.get(PG_ENV):
        return False
    from sqlalchemy import create_engine

    from pipeline.ledger.engine import parse_url

    engine = create_engine(parse_url(os.environ[PG_ENV]))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_available_extensions "
                                     "WHERE name = 'postgis'")).first() is not None
    finally:
        engine.dispose()


pg = pytest.mark.skipif(not _postgis_available(), reason=f"no PostGIS on {PG_ENV}")


def _record_three_runs(url: str) -> list[tuple]:
    with Ledger.open(url) as led:
        led.record_run(run_record(n=0), leads_gdf([square(0, 0), square(10, 0, 40.0), square(50, 50)]))
        # the second run sees the first two again (one moved a little), and one new place
        led.record_run(run_record(n=1), leads_gdf([square(1, 0), square(10, 1, 40.0), square(90, 0)]))
        led.record_run(run_record(n=2), leads_gdf([square(2, 0, 60.0), square(200, 200)]))
        frame = led.leads_frame()
    return [(r.code, r.seen_count, round(r.area_m2, 6)) for r in frame.itertuples()]


@pg
def test_geometry_column_index_and_trigger(tmp_path):
    url = fresh_ledger_url("postgresql", tmp_path)
    try:
        rows = _record_three_runs(url)
        with Ledger.open(url) as led:
            def check(conn):
                assert has_postgis(conn)
                idx = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'leads' "
                                        "AND indexname = 'ix_leads_geom'")).scalar()
                assert "gist" in idx.lower()
                same = conn.execute(text(
                    "SELECT count(*), sum(CASE WHEN ST_Equals(geom, ST_GeomFromWKB(geom_wkb, 4326)) "
                    "THEN 1 ELSE 0 END), min(ST_SRID(geom)) FROM leads")).one()
                return same
            count, equal, srid = led.read(check)
        assert count == equal == len(rows) and srid == 4326
    finally:
        drop_ledger_url(url)


@pg
def test_postgis_matching_gives_the_leads_sqlite_gives(tmp_path):
    url = fresh_ledger_url("postgresql", tmp_path / "pg")
    (tmp_path / "lite").mkdir()
    try:
        on_pg = _record_three_runs(url)
        on_sqlite = _record_three_runs(fresh_ledger_url("sqlite", tmp_path / "lite"))
        assert on_pg == on_sqlite
        assert [seen for _, seen, _ in on_pg] == [3, 2, 1, 1, 1]
        with Ledger.open(url) as led:
            probe = leads_gdf([square(10, 0, 40.0)]).to_crs(4326).geometry.iloc[0]
            far = leads_gdf([square(5000, 5000)]).to_crs(4326).geometry.iloc[0]
            assert led.read(lambda c: best_open_lead(c, "nanjing", probe)) == 2
            assert led.read(lambda c: best_open_lead(c, "nanjing", far)) is None
    finally:
        drop_ledger_url(url)


@pg
def test_existing_ledger_is_upgraded_in_place(tmp_path):
    """A ledger with leads taken back one revision (no geom) gets the column filled from geom_wkb."""
    from alembic import command

    from pipeline.ledger import engine as eng
    from pipeline.ledger.migrate import alembic_config

    url = fresh_ledger_url("postgresql", tmp_path)
    try:
        with Ledger.open(url) as led:
            led.record_run(run_record(n=0), leads_gdf([square(0, 0), square(50, 0)]))
        engine = eng.make_engine(eng.parse_url(url))
        with engine.begin() as conn:
            from alembic.script import ScriptDirectory

            cfg = alembic_config(conn)  # back to the revision before PostGIS's (0009), whatever follows it
            before_postgis = ScriptDirectory.from_config(cfg).get_revision("0009").down_revision
            command.downgrade(cfg, str(before_postgis))
            assert conn.execute(text("SELECT count(*) FROM information_schema.columns "
                                     "WHERE table_name = 'leads' AND column_name = 'geom'")).scalar() == 0
        engine.dispose()
        with Ledger.open(url) as led:
            assert led.read(lambda c: c.execute(text(
                "SELECT count(*) FROM leads WHERE ST_Equals(geom, ST_GeomFromWKB(geom_wkb, 4326))"
            )).scalar()) == 2
    finally:
        drop_ledger_url(url)
