"""Satellite inspection (卫片执法): batches of issued patches, their parts, the leads they join.

Revision ID: 0006
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _bbox() -> list[sa.Column]:
    return [sa.Column(c, sa.Float, nullable=False) for c in ("minx", "miny", "maxx", "maxy")]


def upgrade() -> None:
    op.create_table(
        "inspection_batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("label", sa.String(200)),
        sa.Column("region", sa.String(200), nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("check_due", sa.Date),
        sa.Column("evidence_due", sa.Date),
        sa.Column("rectify_due", sa.Date),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("imported_by", sa.String(100), nullable=False),
        sa.Column("imported_at", TZ, nullable=False),
    )
    op.create_table(
        "inspection_patches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("inspection_batches.id"), nullable=False,
                  index=True),
        sa.Column("patch_no", sa.String(100), nullable=False, index=True),
        sa.Column("admin_code", sa.String(20)),
        sa.Column("area_mu", sa.Float),
        sa.Column("measured_area_m2", sa.Float, nullable=False),
        sa.Column("before_date", sa.Date),
        sa.Column("after_date", sa.Date),
        sa.Column("label", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("attrs", sa.JSON, nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        *_bbox(),
        sa.Column("centroid_lon", sa.Float, nullable=False),
        sa.Column("centroid_lat", sa.Float, nullable=False),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False, index=True),
        sa.Column("joined", sa.Boolean, nullable=False),
        sa.Column("overlap_share", sa.Float),
        sa.Column("other_leads", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.UniqueConstraint("batch_id", "patch_no", name="uq_inspection_patch_no"),
    )
    op.create_table(
        "inspection_patch_parts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patch_id", sa.Integer, sa.ForeignKey("inspection_patches.id"), nullable=False,
                  index=True),
        sa.Column("part_no", sa.Integer, nullable=False),
        sa.Column("area_mu", sa.Float, nullable=False),
        sa.Column("judgment", sa.String(40), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("patch_id", "part_no", name="uq_inspection_part_no"),
    )
    # Plain ADD COLUMNs (no table rebuild on SQLite, see 0002).
    op.add_column("leads", sa.Column("sources", sa.JSON))
    op.add_column("leads", sa.Column("patch_nos", sa.JSON))
    op.add_column("attachments", sa.Column("bearing", sa.Float))


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("bearing")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("patch_nos")
        batch.drop_column("sources")
    for name in ("inspection_patch_parts", "inspection_patches", "inspection_batches"):
        op.drop_table(name)
