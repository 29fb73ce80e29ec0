"""Regions by one identity: the code lead codes carry (``NJ``) and the name users type.

Revision ID: 0004
Revises: 0007

Existing ledgers get one row per region code their runs and leads carry (name unknown until
a run names it).
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    regions = op.create_table(
        "regions",
        sa.Column("code", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    conn = op.get_bind()
    codes = {r[0] for r in conn.execute(sa.text("SELECT DISTINCT region FROM runs"))}
    codes |= {r[0] for r in conn.execute(sa.text("SELECT DISTINCT region FROM leads"))}
    now = datetime.now(UTC)
    rows = [{"code": c, "name": None, "created_at": now} for c in sorted(c for c in codes if c)]
    if rows:
        op.bulk_insert(regions, rows)


def downgrade() -> None:
    op.drop_table("regions")
