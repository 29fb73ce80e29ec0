"""Initial ledger: runs, compared pairs, leads with observations, approved changes, events.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _bbox() -> list[sa.Column]:
    return [sa.Column(c, sa.Float, nullable=False) for c in ("minx", "miny", "maxx", "maxy")]


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("pair_key", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", TZ),
        sa.Column("finished_at", TZ),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("before_path", sa.Text, nullable=False),
        sa.Column("before_hash", sa.String(128), nullable=False),
        sa.Column("before_date", sa.Date, nullable=False),
        sa.Column("before_sensor", sa.String(50)),
        sa.Column("after_path", sa.Text, nullable=False),
        sa.Column("after_hash", sa.String(128), nullable=False),
        sa.Column("after_date", sa.Date, nullable=False),
        sa.Column("after_sensor", sa.String(50)),
        sa.Column("detector_name", sa.String(100), nullable=False),
        sa.Column("detector_version", sa.String(50), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("scene_params", sa.JSON, nullable=False),
        sa.Column("patches_count", sa.Integer),
        sa.Column("leads_count", sa.Integer, nullable=False),
        sa.Column("approved_count", sa.Integer, nullable=False),
        sa.Column("created_count", sa.Integer, nullable=False),
        sa.Column("updated_count", sa.Integer, nullable=False),
    )
    op.create_table(
        "compared_pairs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("pair_key", sa.String(64), nullable=False, unique=True),
        sa.Column("before_hash", sa.String(128), nullable=False),
        sa.Column("after_hash", sa.String(128), nullable=False),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("compared_at", TZ, nullable=False),
    )
    op.create_table(
        "lead_sequences",
        sa.Column("prefix", sa.String(220), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(240), nullable=False, unique=True),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        *_bbox(),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("area_mu", sa.Float, nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
        sa.Column("seen_count", sa.Integer, nullable=False),
        sa.Column("change_class", sa.String(40)),
        sa.Column("score_mean", sa.Float),
        sa.Column("score_max", sa.Float),
        sa.Column("centroid_lon", sa.Float, nullable=False),
        sa.Column("centroid_lat", sa.Float, nullable=False),
        sa.Column("zone_level", sa.Integer),
        sa.Column("zones", sa.JSON, nullable=False),
        sa.Column("approvals", sa.JSON, nullable=False),
        sa.Column("approved_share", sa.Float, nullable=False),
        sa.Column("unapproved_area_m2", sa.Float),
        sa.Column("priority", sa.Integer),
        sa.Column("priority_score", sa.Float),
        sa.Column("first_run_id", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("last_run_id", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_leads_bbox", "leads", ["region", "minx", "maxx", "miny", "maxy"])
    op.create_table(
        "lead_observations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False, index=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("observed_on", sa.Date, nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("score_mean", sa.Float),
        sa.Column("score_max", sa.Float),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "approved_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("region", sa.String(200), nullable=False, index=True),
        sa.Column("observed_on", sa.Date, nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        *_bbox(),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("area_mu", sa.Float, nullable=False),
        sa.Column("change_class", sa.String(40)),
        sa.Column("approvals", sa.JSON, nullable=False),
        sa.Column("approved_share", sa.Float, nullable=False),
        sa.Column("centroid_lon", sa.Float, nullable=False),
        sa.Column("centroid_lat", sa.Float, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Integer),
        sa.Column("lead_code", sa.String(240), index=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )


def downgrade() -> None:
    for name in ("events", "approved_changes", "lead_observations", "leads", "lead_sequences",
                 "compared_pairs", "runs"):
        op.drop_table(name)
