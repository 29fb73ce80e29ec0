"""Alembic migrations of the ledger, run programmatically by :func:`pipeline.ledger.migrate.upgrade`."""
