"""The ledger's tables (SQLAlchemy 2.0 declarative), shared by SQLite and PostgreSQL.

Geometries are stored as WKB in EPSG:4326 with their bounding box in four indexed float
columns: candidate searches ("which open leads could touch this patch?") run as plain SQL range
queries on any backend, the exact test runs in shapely. PostGIS is therefore optional.
The schema is created and upgraded by the Alembic migrations in ``migrations/``; these models
are what the code reads and writes and must match the newest migration.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class BBoxMixin:
    """Bounding box (lon/lat) of the row's geometry, for SQL-side candidate search."""

    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)


class Run(Base):
    """One compared pair: inputs with content hashes, detector, parameters, counts."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(200), index=True)
    pair_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    before_path: Mapped[str] = mapped_column(Text)
    before_hash: Mapped[str] = mapped_column(String(128))
    before_date: Mapped[date] = mapped_column(Date)
    before_sensor: Mapped[str | None] = mapped_column(String(50))
    after_path: Mapped[str] = mapped_column(Text)
    after_hash: Mapped[str] = mapped_column(String(128))
    after_date: Mapped[date] = mapped_column(Date)
    after_sensor: Mapped[str | None] = mapped_column(String(50))
    detector_name: Mapped[str] = mapped_column(String(100))
    detector_version: Mapped[str] = mapped_column(Text)  # composite detectors name their parts (revision 0010)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    scene_params: Mapped[dict[str, Any]] = mapped_column(JSON)
    patches_count: Mapped[int | None] = mapped_column(Integer)
    leads_count: Mapped[int] = mapped_column(Integer)
    approved_count: Mapped[int] = mapped_column(Integer)
    created_count: Mapped[int] = mapped_column(Integer)
    updated_count: Mapped[int] = mapped_column(Integer)


class ComparedPair(Base):
    """'This pair was compared with this detector and these parameters': reruns add nothing."""

    __tablename__ = "compared_pairs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(200), index=True)
    pair_key: Mapped[str] = mapped_column(String(64), unique=True)
    before_hash: Mapped[str] = mapped_column(String(128))
    after_hash: Mapped[str] = mapped_column(String(128))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    compared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeadSequence(Base):
    """Last sequence number handed out per code prefix ``<REGION>-<YEAR>``."""

    __tablename__ = "lead_sequences"
    prefix: Mapped[str] = mapped_column(String(220), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Lead(BBoxMixin, Base):
    """A place where something may be wrong, followed from discovery to closure."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_bbox", "region", "minx", "maxx", "miny", "maxy"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(240), unique=True)
    region: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(20))
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    area_m2: Mapped[float] = mapped_column(Float)
    area_mu: Mapped[float] = mapped_column(Float)
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen: Mapped[date] = mapped_column(Date)
    seen_count: Mapped[int] = mapped_column(Integer)
    change_class: Mapped[str | None] = mapped_column(String(40))
    score_mean: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    zone_level: Mapped[int | None] = mapped_column(Integer)
    zones: Mapped[list[Any]] = mapped_column(JSON)
    approvals: Mapped[list[Any]] = mapped_column(JSON)
    approved_share: Mapped[float] = mapped_column(Float)
    unapproved_area_m2: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[int | None] = mapped_column(Integer)
    priority_score: Mapped[float | None] = mapped_column(Float)
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # lifecycle (revision 0002): the current values; the detail tables keep each step's record
    patrol_zone_id: Mapped[int | None] = mapped_column(Integer)  # patrol_zones.id, no FK (see 0002)
    assignee: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(20))
    personnel: Mapped[list[Any] | None] = mapped_column(JSON)
    stop_measure: Mapped[str | None] = mapped_column(Text)
    notice_no: Mapped[str | None] = mapped_column(String(100))
    case_no: Mapped[str | None] = mapped_column(String(100))
    party: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    verified_on: Mapped[date | None] = mapped_column(Date)
    report_due: Mapped[date | None] = mapped_column(Date)
    reported_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    # satellite inspection (revision 0006): every source that brought the lead, patch numbers
    sources: Mapped[list[Any] | None] = mapped_column(JSON)
    patch_nos: Mapped[list[Any] | None] = mapped_column(JSON)
    fp_reason: Mapped[str | None] = mapped_column(String(40))  # revision 0008
    # enforcement branches (revision 0007)
    correction_deadline: Mapped[date | None] = mapped_column(Date)
    correction_result: Mapped[str | None] = mapped_column(String(20))
    disposal: Mapped[str | None] = mapped_column(String(40))
    escalated_on: Mapped[date | None] = mapped_column(Date)
    transferred_to: Mapped[str | None] = mapped_column(String(40))


class LeadObservation(Base):
    """One sighting of a lead: the area over time."""

    __tablename__ = "lead_observations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    source: Mapped[str] = mapped_column(String(20))
    observed_on: Mapped[date] = mapped_column(Date)
    area_m2: Mapped[float] = mapped_column(Float)
    score_mean: Mapped[float | None] = mapped_column(Float)
    score_max: Mapped[float | None] = mapped_column(Float)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class ApprovedChange(BBoxMixin, Base):
    """A changed patch wholly covered by approvals: recorded, not a lead."""

    __tablename__ = "approved_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    region: Mapped[str] = mapped_column(String(200), index=True)
    observed_on: Mapped[date] = mapped_column(Date)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    area_m2: Mapped[float] = mapped_column(Float)
    area_mu: Mapped[float] = mapped_column(Float)
    change_class: Mapped[str | None] = mapped_column(String(40))
    approvals: Mapped[list[Any]] = mapped_column(JSON)
    approved_share: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    zones: Mapped[list[Any] | None] = mapped_column(JSON)  # revision 0007


class Event(Base):
    """Append-only record of every change; ``hash`` chains to the previous event's hash."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    lead_code: Mapped[str | None] = mapped_column(String(240), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC text, hashed exactly as stored
    before: Mapped[str] = mapped_column(Text)    # canonical JSON text
    after: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scheme: Mapped[str | None] = mapped_column(String(40))  # NULL: sha256; "hmac-sha256:<key id>"


class Region(Base):
    """A region by one identity: ``code`` (what lead codes carry) and the ``name`` users type."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The lifecycle's tables live in their own module; importing it here keeps Base.metadata whole.
from pipeline.ledger import schema_accounts as _schema_accounts  # noqa: E402,F401
from pipeline.ledger import schema_enforcement as _schema_enforcement  # noqa: E402,F401
from pipeline.ledger import schema_inspection as _schema_inspection  # noqa: E402,F401
from pipeline.ledger import schema_work as _schema_work  # noqa: E402,F401
