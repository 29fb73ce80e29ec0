"""The :class:`Ledger`: opening a ledger and recording runs into it.

Every write is one transaction (see :mod:`pipeline.ledger.engine`): either all of a run's
rows and events land, or none do. Reads return plain values or GeoDataFrames in EPSG:4326.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import LedgerError
from pipeline.ledger import engine as eng
from pipeline.ledger import fieldwork, migrate, patrols, recording, regions, runs
from pipeline.ledger.accounts_store import AccountsMixin
from pipeline.ledger.anchor import check_anchor, make_anchor
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.events import (
    ChainHead,
    ChainReport,
    chain_head,
    history,
    verify_chain,
)
from pipeline.ledger.inspection_store import InspectionMixin
from pipeline.ledger.intake import frame_rows
from pipeline.ledger.lifecycle import apply_transition
from pipeline.ledger.overdue import overdue_leads
from pipeline.ledger.queries import lead_detail, leads_frame
from pipeline.ledger.records import RunOutcome, RunRecord
from pipeline.ledger.replay import replay_leads
from pipeline.ledger.schema import ComparedPair
from pipeline.ledger.sources import MERGE_RADIUS_M, Reported, report_lead
from pipeline.ledger.stats import Stats, compute_stats
from pipeline.timeutil import china_today


class Ledger(InspectionMixin, AccountsMixin):
    """A patrol ledger behind a database URL. Create with :meth:`open`."""

    def __init__(self, url: str, engine: Any, calendar: WorkCalendar | None = None) -> None:
        self.url = url
        self.engine = engine
        self.calendar = calendar or WorkCalendar.from_env()

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, calendar: WorkCalendar | None = None, *, create: bool = True) -> Ledger:
        """Open (creating and migrating as needed) the ledger at ``url``.

        ``sqlite:///path`` creates the file if missing (its folder must exist and be writable);
        ``postgresql://user@host/db`` needs an existing database. ``create=False`` (every command
        but those that start a ledger) refuses a SQLite ledger that does not exist yet with an
        :class:`~pipeline.errors.InputError` (a mistyped path) instead of creating an empty one.
        A database that is not a landpatrol ledger (a foreign SQLite file, other tables) is
        refused. Anything that keeps the ledger from being used raises :class:`LedgerError`
        with a one-line problem.
        ``calendar`` sets the working days for deadlines (default: official calendar plus
        ``$LANDPATROL_HOLIDAYS``).
        """
        shown = eng.redact(url)
        parsed = eng.parse_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = eng.sqlite_path(parsed)
            if path is not None:
                eng.check_sqlite_location(shown, path)
                eng.check_sqlite_file(shown, path, create)
        try:
            engine = eng.make_engine(parsed)
        except (SQLAlchemyError, ImportError) as exc:
            raise LedgerError(shown, eng.describe(exc)) from None
        ledger = cls(shown, engine, calendar)
        try:
            eng.run_write(engine, shown, lambda conn: migrate.upgrade(conn, create))
        except ValueError as exc:
            engine.dispose()
            raise LedgerError(shown, str(exc)) from None
        except LedgerError:
            engine.dispose()
            raise
        return ledger

    @classmethod
    def probe(cls, url: str) -> bool:
        """Whether a ledger is already at ``url``, checked without writing anything.

        A SQLite file that does not exist yet is fine when its folder is writable (the first
        commit creates it; ``False``); a foreign or unwritable file is refused as in
        :meth:`open`. A server is connected to once (an unreachable one raises
        :class:`LedgerError`), so a run fails before any work without creating or migrating a
        ledger for input that is refused later."""
        shown = eng.redact(url)
        parsed = eng.parse_url(url)
        if parsed.get_backend_name() == "sqlite":
            path = eng.sqlite_path(parsed)
            if path is None:  # in memory: nothing on disk to find
                return False
            eng.check_sqlite_location(shown, path)
            eng.check_sqlite_file(shown, path, True)
            return path.exists()
        try:
            engine = eng.make_engine(parsed)
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (SQLAlchemyError, ImportError) as exc:
            raise LedgerError(shown, eng.describe(exc)) from None
        engine.dispose()
        return True

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, fn: Any) -> Any:
        """Run ``fn(conn)`` in one serialised write transaction."""
        return eng.run_write(self.engine, self.url, fn)

    def read(self, fn: Any) -> Any:
        """Run ``fn(conn)`` in a read transaction."""
        return eng.run_read(self.engine, self.url, fn)

    # -- compared pairs ------------------------------------------------------------------
    def is_compared(self, pair_key: str) -> bool:
        return self.read(lambda c: c.execute(
            select(ComparedPair.id).where(ComparedPair.pair_key == pair_key)).first() is not None)

    def compared_pair_keys(self, region: str | None = None) -> set[str]:
        stmt = select(ComparedPair.pair_key)
        if region is not None:
            stmt = stmt.where(ComparedPair.region == region)
        return self.read(lambda c: set(c.execute(stmt).scalars()))

    def region_of(self, text: str) -> str | None:
        """The code of the region named or coded ``text``; ``None`` if the ledger knows none."""
        return self.read(lambda c: regions.region_of(c, text))

    def resolve_region(self, text: str) -> str:
        """The code of the region named or coded ``text``; an unknown one raises ConfigError."""
        return self.read(lambda c: regions.resolve_region(c, text))

    def run_state(self, pair_key: str) -> runs.RunState | None:
        """The recorded run of ``pair_key`` and whether its run folder is still to come."""
        return self.read(lambda c: runs.run_state(c, pair_key))

    def mark_published(self, run_id: int, folder: str) -> bool:
        """Run ``run_id``'s folder is in place (one ``run_published`` event)."""
        return self.write(lambda c: runs.mark_published(c, run_id, folder))

    def run_leads(self, run_id: int) -> gpd.GeoDataFrame:
        """The leads run ``run_id`` created or sighted again, with that sighting's geometry."""
        return self.read(lambda c: runs.run_leads(c, run_id))

    # -- recording a run -----------------------------------------------------------------
    def record_run(self, run: RunRecord, leads: gpd.GeoDataFrame | None,
                   approved: gpd.GeoDataFrame | None = None) -> RunOutcome:
        """Record one compared pair with its leads and approved changes, in one transaction.

        A pair already compared (same :attr:`RunRecord.pair_key`) writes nothing and returns
        ``skipped=True``. A lead that overlaps an open lead of the same region updates it (seen
        again, area now, one more observation); otherwise it becomes a new lead with the next
        code. Any failure rolls everything back.
        """
        return self.record_runs([(run, leads, approved)])[0]

    def record_runs(self, runs: Sequence[tuple[RunRecord, gpd.GeoDataFrame | None,
                                               gpd.GeoDataFrame | None]]) -> list[RunOutcome]:
        """Record the pairs of one date window (the tiles of a region, their patches joined
        across tile edges: :mod:`pipeline.tilejoin`) in one transaction, in the order given;
        each as :meth:`record_run` does. All land or none do."""
        prepared = []
        for run, leads, approved in runs:
            try:
                prepared.append((run, frame_rows(leads, "leads"),
                                 frame_rows(approved, "approved changes")))
            except ValueError as exc:
                raise LedgerError(self.url, f"run of {run.region} refused: {exc}") from None
        return self.write(lambda conn: [recording.record(conn, run, run.pair_key, lead_rows,
                                                         approved_rows)
                                        for run, lead_rows, approved_rows in prepared])

    # -- reading -------------------------------------------------------------------------
    def leads_frame(self, region: str | None = None, status: str | None = None,
                    zone: str | None = None) -> gpd.GeoDataFrame:
        """Leads as a GeoDataFrame in EPSG:4326, ordered by code (``zone``: patrol zone code)."""
        return self.read(lambda c: leads_frame(c, region=region, status=status, zone=zone))

    def get_lead(self, code: str) -> dict[str, Any] | None:
        """One lead with its geometry (shapely, EPSG:4326) and observations; ``None`` if unknown."""
        return self.read(lambda c: lead_detail(c, code))

    def leads_with(self, extra: list[str], status: str | None = None) -> gpd.GeoDataFrame:
        """:meth:`leads_frame` plus the lead columns named in ``extra`` (e.g. ``patrol_zone_id``)."""
        return self.read(lambda c: leads_frame(c, status=status, extra=extra))

    # -- lifecycle -----------------------------------------------------------------------
    def transition(self, code: str, to: str, by: str, fields: dict[str, Any] | None = None,
                   note: str | None = None, today: date | None = None) -> dict[str, Any]:
        """Take lead ``code`` one step to ``to`` (see :mod:`pipeline.ledger.lifecycle`).

        Refused steps raise :class:`~pipeline.ledger.lifecycle.TransitionError`; nothing changes.
        """
        day = today or china_today()
        return self.write(lambda c: apply_transition(c, code, to, by, dict(fields or {}), note, day,
                                                     self.calendar))

    def history(self, code: str) -> list[dict[str, Any]]:
        """Every event of lead ``code`` in order (who, when, before, after, hash)."""
        return self.read(lambda c: history(c, code))

    def verify(self, anchor: dict[str, Any] | None = None) -> ChainReport:
        """Check the ledger against its own record: the keyed hash chain (``broken_id`` names
        the first bad event), every lead's row against the replay of its events, and with an
        ``anchor`` (see :mod:`pipeline.ledger.anchor`) that nothing before it was cut or
        rewritten. ``report.ok`` only when all hold; ``report.describe()`` says what failed."""
        def check(conn: Any) -> ChainReport:
            report = verify_chain(conn)
            if not report.ok:
                return report
            leads, code, problem = replay_leads(conn)
            report = replace(report, leads=leads, lead_code=code, lead_problem=problem)
            if anchor is not None:
                report = replace(report, anchor_problem=check_anchor(conn, anchor))
            return report

        return self.read(check)

    def anchor(self) -> dict[str, Any]:
        """The chain head as an anchor record to keep outside the ledger."""
        return self.read(lambda c: make_anchor(c, self.url))

    def chain_head(self) -> ChainHead:
        """The last event of the chain (genesis when empty): id, hash and event count."""
        return self.read(chain_head)

    def overdue(self, today: date | None = None) -> list[dict[str, Any]]:
        return self.read(lambda c: overdue_leads(c, today or china_today(), self.calendar))

    def stats(self, start: date, end: date, region: str | None = None, zone: str | None = None,
              today: date | None = None, unit: str | None = None) -> Stats:
        """Figures of ``[start, end]`` (see :mod:`pipeline.ledger.stats`); ``unit``: responsible unit."""
        return self.read(lambda c: compute_stats(c, start, end, today or china_today(), self.calendar,
                                                 region=region, zone=zone, unit=unit))

    def assess(self, period: Any, area: Any = None, today: date | None = None, plan: Any = None,
               coverage_m: float | None = None) -> Any:
        """The :class:`pipeline.assessment.assess.Assessment` of ``period`` over ``area``."""
        from pipeline.assessment.assess import assess
        from pipeline.assessment.coverage import DEFAULT_DISTANCE_M
        from pipeline.assessment.data import Area

        return self.read(lambda c: assess(c, period, area or Area(), today or china_today(),
                                          self.calendar, plan,
                                          DEFAULT_DISTANCE_M if coverage_m is None else coverage_m))

    # -- people on the ground ------------------------------------------------------------
    def report_lead(self, *, region: str, source: str, geometry: BaseGeometry, by: str,
                    reported_on: date | None = None, description: str | None = None,
                    party: str | None = None, radius_m: float = MERGE_RADIUS_M,
                    reporter: str | None = None, contact: str | None = None,
                    reply_due: date | None = None) -> Reported:
        """A lead from a hotline call, informant, patrol...; merges into an open lead there.
        Reports from people go into the clue register (reporter, contact, reply deadline)."""
        day = reported_on or china_today()
        return self.write(lambda c: report_lead(
            c, region=region, source=source, geometry=geometry, reported_on=day, by=by,
            description=description, party=party, radius_m=radius_m, reporter=reporter,
            contact=contact, reply_due=reply_due))

    def reply_clue(self, code: str, reply: str, by: str, on: date | None = None,
                   today: date | None = None) -> int:
        """Record the reply to whoever reported lead ``code`` (see :mod:`pipeline.ledger.clues`)."""
        from pipeline.ledger.clues import reply_clue

        day = today or china_today()
        return self.write(lambda c: reply_clue(c, code=code, reply=reply, on=on or day, by=by, today=day))

    def clues(self, code: str | None = None, with_contact: bool = False) -> list[dict[str, Any]]:
        """The clue register; reporter and contact only with ``with_contact`` (supervisors)."""
        from pipeline.ledger.clues import clues

        return self.read(lambda c: clues(c, code, with_contact))

    def overdue_steps(self, today: date | None = None) -> list[dict[str, Any]]:
        """Every step past its deadline: reports, correction follow-ups, replies to reporters."""
        from pipeline.ledger.overdue import overdue_steps

        return self.read(lambda c: overdue_steps(c, today or china_today(), self.calendar))

    def add_patrol_zone(self, **kwargs: Any) -> int:
        """See :func:`pipeline.ledger.patrols.add_patrol_zone`."""
        return self.write(lambda c: patrols.add_patrol_zone(c, **kwargs))

    def update_patrol_zone(self, **kwargs: Any) -> bool:
        """See :func:`pipeline.ledger.patrols.update_patrol_zone`."""
        return self.write(lambda c: patrols.update_patrol_zone(c, **kwargs))

    def add_patrol(self, **kwargs: Any) -> int:
        """See :func:`pipeline.ledger.patrols.add_patrol` (zero reports included)."""
        return self.write(lambda c: patrols.add_patrol(c, **kwargs))

    # -- the field app (see pipeline.ledger.fieldwork) ----------------------------------------
    def take_steps(self, code: str, steps: list[fieldwork.Step], by: str,
                   photos: list[fieldwork.Photo] | None = None, today: date | None = None,
                   key: str | None = None) -> bool:
        """Steps of one lead and their photos in one transaction; False for a repeated ``key``."""
        day = today or date.today()
        return self.write(lambda c: fieldwork.take_steps(c, code, steps, by, list(photos or []), day,
                                                         self.calendar, key))

    def record_patrol(self, key: str | None = None, **kwargs: Any) -> int | None:
        """:meth:`add_patrol` once per idempotency ``key``; ``None`` for a repeat."""
        return self.write(lambda c: fieldwork.record_patrol(c, key, **kwargs))

    def zone_codes(self, codes: tuple[str, ...] | None = None) -> dict[int, str]:
        return self.read(lambda c: fieldwork.zone_codes(c, codes))

    def lead_zone_id(self, code: str) -> tuple[bool, int | None]:
        return self.read(lambda c: fieldwork.lead_zone_id(c, code))

    def patrol_zones(self, codes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return self.read(lambda c: fieldwork.patrol_zones(c, codes))

    def zone_at(self, geometry: BaseGeometry) -> str | None:
        return self.read(lambda c: fieldwork.zone_at(c, geometry))

    def patrols_between(self, zone: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return self.read(lambda c: fieldwork.patrols_between(c, zone, start, end))

    def attach(self, code: str, path: Path, by: str, kind: str = "photo",
               taken_at: datetime | None = None, lon: float | None = None,
               lat: float | None = None, bearing: float | None = None) -> str:
        """Register a photo/document of a lead; returns its sha256."""
        return self.write(lambda c: patrols.add_attachment(
            c, code=code, path=Path(path), by=by, kind=kind, taken_at=taken_at, lon=lon, lat=lat,
            bearing=bearing))
