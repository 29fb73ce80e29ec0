"""Keyed event chain and revocable web sessions.

``events.scheme`` names how an event is chained: NULL for the plain sha256 events written
before this revision (they keep verifying as they are), ``hmac-sha256:<key id>`` for events
chained with the ledger key. ``web_users.session_version`` is bumped on logout, which ends
every session and token issued before.

Revision ID: 0005
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("scheme", sa.String(40), nullable=True))
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("session_version")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("scheme")
