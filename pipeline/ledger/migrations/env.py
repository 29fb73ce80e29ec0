"""Alembic environment: always handed an open connection by :mod:`pipeline.ledger.migrate`."""
from __future__ import annotations

from alembic import context

from pipeline.ledger.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the programmatic path is supported
    raise RuntimeError("landpatrol ledger migrations run through Ledger.open(url), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
