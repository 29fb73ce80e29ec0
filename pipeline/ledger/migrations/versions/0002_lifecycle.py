"""Field work: responsibility zones, patrols, verifications, stop notices, reports, cases,
attachments, and the lifecycle columns of leads.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
LEAD_COLUMNS: list[tuple[str, Any]] = [
    ("assignee", sa.String(200)), ("outcome", sa.String(20)), ("personnel", sa.JSON),
    ("stop_measure", sa.Text), ("notice_no", sa.String(100)), ("case_no", sa.String(100)),
    ("party", sa.Text), ("description", sa.Text), ("verified_on", sa.Date),
    ("report_due", sa.Date), ("reported_on", sa.Date), ("closed_on", sa.Date),
    ("status_changed_on", sa.Date),
]


def _by() -> sa.Column:
    return sa.Column("recorded_by", sa.String(100), nullable=False)


def _lead_fk() -> sa.Column:
    return sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "patrol_zones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(100), nullable=False, unique=True),
        sa.Column("name", sa.Text),
        sa.Column("region", sa.String(200), index=True),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("unit", sa.Text),
        sa.Column("persons", sa.JSON, nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary, nullable=False),
        *[sa.Column(c, sa.Float, nullable=False) for c in ("minx", "miny", "maxx", "maxy")],
    )
    op.create_table(
        "patrols",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("patrol_zone_id", sa.Integer, sa.ForeignKey("patrol_zones.id")),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ),
        sa.Column("personnel", sa.JSON, nullable=False),
        sa.Column("route_wkb", sa.LargeBinary),
        *[sa.Column(c, sa.Text) for c in ("project", "party", "location", "situation",
                                          "stop_measures", "effect", "follow_up")],
        sa.Column("lead_codes", sa.JSON, nullable=False),
        sa.Column("zero_report", sa.Boolean, nullable=False),
        _by(),
    )
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer, primary_key=True),
        _lead_fk(),
        sa.Column("verified_on", sa.Date, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("personnel", sa.JSON, nullable=False),
        sa.Column("patrol_id", sa.Integer, sa.ForeignKey("patrols.id")),
        sa.Column("note", sa.Text),
        _by(),
    )
    op.create_table(
        "stop_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        _lead_fk(),
        sa.Column("notice_no", sa.String(100), nullable=False, unique=True),
        sa.Column("measure", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        _by(),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        _lead_fk(),
        sa.Column("report_no", sa.String(100)),
        sa.Column("reported_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("major", sa.Boolean, nullable=False),
        _by(),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        _lead_fk(),
        sa.Column("case_no", sa.String(100), nullable=False, unique=True),
        sa.Column("filed_on", sa.Date, nullable=False),
        _by(),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        _lead_fk(),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("taken_at", TZ),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("kind", sa.String(20), nullable=False),
        _by(),
    )
    # Plain ADD COLUMNs (no table rebuild on SQLite, which would trip the foreign keys of
    # lead_observations on a ledger that has data); patrol_zone_id is checked by the code.
    op.add_column("leads", sa.Column("patrol_zone_id", sa.Integer))
    for name, type_ in LEAD_COLUMNS:
        op.add_column("leads", sa.Column(name, type_))


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch:
        for name, _ in reversed(LEAD_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("patrol_zone_id")
    for name in ("attachments", "cases", "reports", "stop_notices", "verifications", "patrols",
                 "patrol_zones"):
        op.drop_table(name)
