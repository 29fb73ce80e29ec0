"""The ledger's core: opening, recording runs, reruns, re-sightings, rollback, bad URLs."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from pipeline.errors import LedgerError
from pipeline.ledger import Ledger, pair_key
from pipeline.ledger import recording as rec_mod
from pipeline.ledger.events import verify_chain
from pipeline.ledger.schema import Base, Event
from pipeline.ledger.testing import (
    leads_gdf,
    run_record,
    square,
)


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url) as led:
        yield led


def snapshot(led: Ledger) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    def read(conn):
        out = {}
        for table in Base.metadata.sorted_tables:
            if table.name in {t for t in conn.dialect.get_table_names(conn)}:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[table.name] = [tuple(r) for r in rows]
        return out

    return led.read(read)


def test_open_creates_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    with Ledger.open(f"sqlite:///{path}") as led:
        assert path.exists()
        mode = led.read(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        assert mode == "wal"
        assert len(led.leads_frame()) == 0
    # reopening an existing ledger migrates nothing and keeps it usable
    with Ledger.open(f"sqlite:///{path}") as led:
        assert led.compared_pair_keys() == set()


def test_migrations_match_models(ledger: Ledger) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    def postgis_own(obj, name, type_, reflected, compare_to):
        # PostGIS's own table, and the geometry column + index revision 0009 adds beside the
        # models (kept in step with geom_wkb by a trigger)
        # ... and on SQLite the R*Tree of revision 0011 with its shadow tables (triggers keep it)
        return not (reflected and compare_to is None
                    and (name in ("spatial_ref_sys", "geom", "ix_leads_geom")
                         or (type_ == "table" and str(name).startswith("leads_rtree"))))

    def same_type(ctx, inspected, metadata, inspected_type, metadata_type):
        # revision 0010 widens runs.detector_version to TEXT on PostgreSQL only: SQLite never
        # enforced VARCHAR lengths, and rebuilding runs would trip the foreign keys onto it
        if ctx.dialect.name == "sqlite" and (metadata.table.name, metadata.name) == (
                "runs", "detector_version"):
            return False
        return None  # alembic's own comparison

    def diff(conn):
        ctx = MigrationContext.configure(conn, opts={"include_object": postgis_own,
                                                     "compare_type": same_type})
        return compare_metadata(ctx, Base.metadata)

    assert ledger.read(diff) == []


def test_record_run_creates_leads_with_codes(ledger: Ledger) -> None:
    frame = leads_gdf([square(0, 0), square(10, 0, 40.0), square(20, 0)])
    out = ledger.record_run(run_record(), frame, None)
    assert not out.skipped
    assert out.created == ["NANJING-2024-0001", "NANJING-2024-0002", "NANJING-2024-0003"]
    assert out.updated == []
    leads = ledger.leads_frame()
    assert leads.crs.to_epsg() == 4326
    assert list(leads["code"]) == out.created
    assert set(leads["status"]) == {"new"} and set(leads["source"]) == {"imagery"}
    assert leads["area_m2"].tolist() == pytest.approx([900.0, 1600.0, 900.0])
    assert leads["area_mu"].iloc[1] == pytest.approx(1600.0 / 666.67)
    # stored geometry is the projected patch, reprojected
    back = gpd.GeoSeries(leads.geometry, crs=4326).to_crs(frame.crs)
    assert back.iloc[1].symmetric_difference(frame.geometry.iloc[1]).area < 1e-3
    lead = ledger.get_lead("NANJING-2024-0002")
    assert lead is not None and lead["seen_count"] == 1 and lead["first_run_id"] == out.run_id
    assert lead["zones"][0]["zone_id"] == "Z1" and lead["zone_level"] == 1
    assert len(lead["observations"]) == 1
    assert ledger.get_lead("NANJING-2024-0099") is None
    # another year starts its own sequence; another region its own prefix
    out2 = ledger.record_run(run_record(n=1, after=date(2025, 3, 1)), leads_gdf([square(90, 90)]), None)
    out3 = ledger.record_run(run_record(region="Jiang ning", n=2), leads_gdf([square(90, 90)]), None)
    assert out2.created == ["NANJING-2025-0001"]
    assert out3.created == ["JIANG-NING-2024-0001"]


def test_same_pair_again_adds_nothing(ledger: Ledger) -> None:
    frame = leads_gdf([square(0, 0), square(10, 0)])
    rec = run_record()
    first = ledger.record_run(rec, frame, leads_gdf([square(50, 50)]))
    before = snapshot(ledger)
    again = ledger.record_run(rec, frame, leads_gdf([square(50, 50)]))
    assert again.skipped and again.run_id == first.run_id
    assert again.created == [] and again.updated == []
    assert snapshot(ledger) == before
    assert ledger.is_compared(rec.pair_key)
    assert ledger.compared_pair_keys("nanjing") == {rec.pair_key}
    assert ledger.compared_pair_keys("elsewhere") == set()
    # other parameters are another comparison
    assert pair_key(rec.before_hash, rec.after_hash, "cva", "1.0", {"threshold": 0.6}) != rec.pair_key
    assert not ledger.is_compared(run_record(n=5).pair_key)


def test_overlapping_patch_updates_open_lead(ledger: Ledger) -> None:
    first = ledger.record_run(run_record(n=0, after=date(2024, 5, 1)), leads_gdf([square(0, 0, 50.0)]), None)
    code = first.created[0]
    # a later run sees the same place grown (overlapping, bigger) and a new place elsewhere
    grown = square(2, 2, 70.0)
    out = ledger.record_run(run_record(n=1, after=date(2024, 6, 1)),
                            leads_gdf([grown, square(200, 200)]), None)
    assert out.updated == [code]
    assert out.created == ["NANJING-2024-0002"]
    lead = ledger.get_lead(code)
    assert lead["seen_count"] == 2
    assert lead["area_m2"] == pytest.approx(4900.0)  # area now
    assert lead["first_seen"] == date(2024, 5, 1) and lead["last_seen"] == date(2024, 6, 1)
    assert lead["first_run_id"] == first.run_id and lead["last_run_id"] == out.run_id
    assert [o["area_m2"] for o in lead["observations"]] == pytest.approx([2500.0, 4900.0])
    assert len(ledger.leads_frame()) == 2
    # a patch that only shares an edge with the lead is another place
    edge = shapely.geometry.box(grown.bounds[2], grown.bounds[1], grown.bounds[2] + 30, grown.bounds[1] + 30)
    out3 = ledger.record_run(run_record(n=2, after=date(2024, 7, 1)), leads_gdf([edge]), None)
    assert out3.updated == [] and len(out3.created) == 1


def test_two_patches_on_one_lead_are_one_sighting(ledger: Ledger) -> None:
    code = ledger.record_run(run_record(n=0), leads_gdf([square(0, 0, 100.0)]), None).created[0]
    out = ledger.record_run(run_record(n=1, after=date(2024, 6, 1)),
                            leads_gdf([square(0, 0, 30.0), square(5, 5, 30.0)]), None)
    assert out.updated == [code] and out.created == []
    lead = ledger.get_lead(code)
    assert lead["seen_count"] == 2 and lead["area_m2"] == pytest.approx(1800.0)
    assert lead["zones"][0]["area_m2"] == pytest.approx(1800.0)


def test_closed_lead_is_not_reopened(ledger: Ledger) -> None:
    from sqlalchemy import update

    from pipeline.ledger.schema import Lead

    code = ledger.record_run(run_record(n=0), leads_gdf([square(0, 0)]), None).created[0]
    ledger.write(lambda c: c.execute(update(Lead).where(Lead.code == code).values(status="closed")))
    out = ledger.record_run(run_record(n=1, after=date(2024, 6, 1)), leads_gdf([square(0, 0)]), None)
    assert out.updated == [] and out.created == ["NANJING-2024-0002"]


def test_approved_changes_recorded_not_leads(ledger: Ledger) -> None:
    approved = leads_gdf([square(300, 300)], approved_share=1.0,
                         approvals=[{"approval_no": "A-1", "approved_use": "housing",
                                     "approved_on": date(2023, 1, 1), "area_m2": 900.0, "share": 1.0}])
    out = ledger.record_run(run_record(), leads_gdf([]), approved)
    assert out.created == [] and out.approved == 1
    assert len(ledger.leads_frame()) == 0
    rows = ledger.read(lambda c: c.exec_driver_sql("SELECT approvals, area_m2 FROM approved_changes").all())
    assert len(rows) == 1 and rows[0][1] == pytest.approx(900.0)
    assert "A-1" in str(rows[0][0]) and "2023-01-01" in str(rows[0][0])


def test_failure_mid_write_leaves_ledger_unchanged(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger.record_run(run_record(n=0), leads_gdf([square(0, 0, 50.0)]), None)
    before = snapshot(ledger)
    calls = {"n": 0}
    real = rec_mod.insert_approved

    def failing(*args, **kwargs):  # runs after leads were created and updated
        calls["n"] += 1
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rec_mod, "insert_approved", failing)
    rec = run_record(n=1, after=date(2024, 6, 1))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ledger.record_run(rec, leads_gdf([square(1, 1, 50.0), square(100, 100)]), leads_gdf([square(300, 300)]))
    assert calls["n"] == 1
    assert snapshot(ledger) == before
    assert not ledger.is_compared(rec.pair_key)
    # and the same run goes through once the fault is gone, codes continuing without a gap
    monkeypatch.setattr(rec_mod, "insert_approved", real)
    out = ledger.record_run(rec, leads_gdf([square(1, 1, 50.0), square(100, 100)]), leads_gdf([square(300, 300)]))
    assert out.created == ["NANJING-2024-0002"] and out.updated == ["NANJING-2024-0001"]


def test_events_cover_every_change_and_chain(ledger: Ledger) -> None:
    ledger.record_run(run_record(n=0), leads_gdf([square(0, 0, 50.0), square(100, 0)]), None)
    ledger.record_run(run_record(n=1, after=date(2024, 6, 1)), leads_gdf([square(1, 1, 50.0)]), None)
    events = ledger.read(lambda c: c.execute(select(Event.action, Event.lead_code).order_by(Event.id)).all())
    assert [e[0] for e in events] == ["created", "created", "run_recorded", "seen_again", "run_recorded"]
    assert events[3][1] == "NANJING-2024-0001"
    assert ledger.read(verify_chain).ok
    assert ledger.read(lambda c: c.execute(select(func.count()).select_from(Event)).scalar()) == 5


def test_bad_frames_are_refused_before_writing(ledger: Ledger) -> None:
    frame = leads_gdf([square(0, 0)]).set_crs(None, allow_override=True)
    with pytest.raises(LedgerError, match="no CRS"):
        ledger.record_run(run_record(), frame, None)
    assert ledger.compared_pair_keys() == set()


def test_geographic_input_is_measured_in_metres(ledger: Ledger) -> None:
    frame = leads_gdf([square(0, 0, 100.0)]).to_crs(4326).drop(columns=["area_m2"])
    ledger.record_run(run_record(), frame, None)
    assert ledger.leads_frame()["area_m2"].iloc[0] == pytest.approx(10_000.0, rel=1e-3)


@pytest.mark.parametrize("url, needle", [
    ("sqlite:////nonexistent-dir/x.sqlite", "does not exist"),
    ("postgresql://nobody@127.0.0.1:1/x", "127.0.0.1"),
    ("mysql://u@localhost/x", "unsupported"),
    ("not a url", "not a database URL"),
])
def test_unreachable_or_invalid_url_is_one_line_ledger_error(url: str, needle: str) -> None:
    with pytest.raises(LedgerError) as info:
        Ledger.open(url)
    msg = str(info.value)
    assert "\n" not in msg and needle in msg
    assert info.value.exit_code == 3


def test_unwritable_location_is_ledger_error(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(LedgerError, match="not writable"):
            Ledger.open(f"sqlite:///{ro / 'x.sqlite'}")
    finally:
        ro.chmod(0o700)


def test_directory_as_ledger_file_is_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="is a directory"):
        Ledger.open(f"sqlite:///{tmp_path}")


def test_corrupt_sqlite_file_is_ledger_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError) as info:
        Ledger.open(f"sqlite:///{bad}")
    assert "\n" not in str(info.value)
