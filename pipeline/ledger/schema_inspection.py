"""Tables of the annual satellite inspection (卫片执法, revision 0006): the ministry's batches,
their issued patches (图斑) with the county's 举证 per patch, and the parts a patch is split into.

Each patch points at the lead it joined (or that it opened): the lead carries the lifecycle,
the patch the official number, the national fields and the evidence judged on it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.ledger.schema import Base, BBoxMixin


class InspectionBatch(Base):
    """One issued batch (e.g. 2024年度第1批) with its due dates."""

    __tablename__ = "inspection_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    check_due: Mapped[date | None] = mapped_column(Date)
    evidence_due: Mapped[date | None] = mapped_column(Date)
    rectify_due: Mapped[date | None] = mapped_column(Date)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InspectionPatch(BBoxMixin, Base):
    """One issued patch: official number, national attributes, the lead it belongs to, 举证."""

    __tablename__ = "inspection_patches"
    __table_args__ = (UniqueConstraint("batch_id", "patch_no", name="uq_inspection_patch_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("inspection_batches.id"), index=True)
    patch_no: Mapped[str] = mapped_column(String(100), index=True)
    admin_code: Mapped[str | None] = mapped_column(String(20))
    area_mu: Mapped[float | None] = mapped_column(Float)
    measured_area_m2: Mapped[float] = mapped_column(Float)
    before_date: Mapped[date | None] = mapped_column(Date)
    after_date: Mapped[date | None] = mapped_column(Date)
    label: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    joined: Mapped[bool] = mapped_column(Boolean)  # True: joined an existing lead
    overlap_share: Mapped[float | None] = mapped_column(Float)
    other_leads: Mapped[list[Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class InspectionPatchPart(Base):
    """A part of a split patch with its own judgment (图斑拆分)."""

    __tablename__ = "inspection_patch_parts"
    __table_args__ = (UniqueConstraint("patch_id", "part_no", name="uq_inspection_part_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patch_id: Mapped[int] = mapped_column(ForeignKey("inspection_patches.id"), index=True)
    part_no: Mapped[int] = mapped_column(Integer)
    area_mu: Mapped[float] = mapped_column(Float)
    judgment: Mapped[str] = mapped_column(String(40))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(100))
