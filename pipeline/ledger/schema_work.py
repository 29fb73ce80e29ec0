"""Tables of the field work (revision 0002): responsibility zones, patrols, and the records of
each lifecycle step (verifications, stop notices, reports, cases) plus attachments."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.ledger.schema import Base, BBoxMixin


class PatrolZone(BBoxMixin, Base):
    """A responsibility zone (分片包干): level, responsible unit and persons."""

    __tablename__ = "patrol_zones"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200), index=True)
    level: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str | None] = mapped_column(Text)
    persons: Mapped[list[Any]] = mapped_column(JSON)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class Patrol(Base):
    """One patrol as the ledger's record asks: time, >= 2 personnel, route, findings.

    A patrol that found nothing is still recorded (``zero_report``).
    """

    __tablename__ = "patrols"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patrol_zone_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_zones.id"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    personnel: Mapped[list[Any]] = mapped_column(JSON)
    route_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)
    project: Mapped[str | None] = mapped_column(Text)
    party: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    situation: Mapped[str | None] = mapped_column(Text)
    stop_measures: Mapped[str | None] = mapped_column(Text)
    effect: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    lead_codes: Mapped[list[Any]] = mapped_column(JSON)
    zero_report: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Verification(Base):
    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    verified_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    personnel: Mapped[list[Any]] = mapped_column(JSON)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id"))
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(40))  # false positive (revision 0008)
    recorded_by: Mapped[str] = mapped_column(String(100))


class StopNotice(Base):
    """责令停止违法行为通知书: numbered, one number once."""

    __tablename__ = "stop_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    notice_no: Mapped[str] = mapped_column(String(100), unique=True)
    measure: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Report(Base):
    """The violation report form (违法行为报告), due within 2 working days of verification."""

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    report_no: Mapped[str | None] = mapped_column(String(100))
    reported_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    major: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    case_no: Mapped[str] = mapped_column(String(100), unique=True)
    filed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))


class Attachment(Base):
    """A photo or document of a lead: when and where it was taken, and its content hash."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(20))
    recorded_by: Mapped[str] = mapped_column(String(100))
    bearing: Mapped[float | None] = mapped_column(Float)  # degrees from north (revision 0006)


class Submission(Base):
    """A field submission's idempotency key (revision 0008): a phone that syncs a verification
    or patrol recorded offline sends it again until it hears back, and the ledger records it once."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    lead_code: Mapped[str | None] = mapped_column(String(240))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
