"""Field app: false-positive reasons (a fixed list, on the lead and its verification) and the
idempotency keys of submissions synced from phones that were offline.

Revision ID: 0008
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("fp_reason", sa.String(40)))
    op.add_column("verifications", sa.Column("reason", sa.String(40)))
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("lead_code", sa.String(240)),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("submissions")
    with op.batch_alter_table("verifications") as batch:
        batch.drop_column("reason")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("fp_reason")
