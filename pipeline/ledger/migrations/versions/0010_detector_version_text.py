"""A run's detector version as text of any length: a composite detector's version names its
parts (``full=cva 1.1.0; rgb=ensemble 1.0-gate(gbm v3, cva 1.1.0)``, 56 characters), which
PostgreSQL refused in the ``VARCHAR(50)`` of revision 0001, failing the run's commit.

Revision ID: 0010
Revises: 0004

SQLite does not enforce ``VARCHAR`` lengths, so its ``runs`` table is left as it is (no table
rebuild); PostgreSQL widens the column in place.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("runs", "detector_version", type_=sa.Text(), existing_type=sa.String(50),
                    existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("runs", "detector_version", type_=sa.String(50), existing_type=sa.Text(),
                    existing_nullable=False)
