"""The enforcement branches the rules require and the clue register.

Leads gain the correction deadline of their stop notice (限期改正) and its follow-up, the way
they were disposed of (corrected on the spot, transferred, not filed), the date a stop that was
ignored went to the government; ``enforcement_actions`` keeps each such step's record;
``clues`` keeps who reported a lead (contact visible to supervisors only), the reply deadline
and the reply. Approved changes keep the zones they touch, so farmland taken by approved
construction counts in the red-line figure.

Revision ID: 0007
Revises: 0008
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0008"
branch_labels = None
depends_on = None

LEAD_COLUMNS: list[tuple[str, Any]] = [
    ("correction_deadline", sa.Date), ("correction_result", sa.String(20)),
    ("disposal", sa.String(40)), ("escalated_on", sa.Date), ("transferred_to", sa.String(40)),
]


def upgrade() -> None:
    for name, type_ in LEAD_COLUMNS:
        op.add_column("leads", sa.Column(name, type_))
    op.add_column("approved_changes", sa.Column("zones", sa.JSON))
    op.create_table(
        "enforcement_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("acted_on", sa.Date, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "clues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("leads.id"), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("reporter", sa.Text),
        sa.Column("contact", sa.Text),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("reply_due", sa.Date),
        sa.Column("reply", sa.Text),
        sa.Column("replied_on", sa.Date),
        sa.Column("recorded_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("clues")
    op.drop_table("enforcement_actions")
    with op.batch_alter_table("approved_changes") as batch:
        batch.drop_column("zones")
    with op.batch_alter_table("leads") as batch:
        for name, _ in reversed(LEAD_COLUMNS):
            batch.drop_column(name)
