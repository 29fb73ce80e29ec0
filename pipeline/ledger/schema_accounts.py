"""The ``web_users`` table (revision 0003): accounts of the web app, kept in the ledger.

Part of the ledger's schema (imported by ``schema.py`` so its models equal its migrations);
:mod:`pipeline.ledger.accounts` is its only writer.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Table, Text

from pipeline.ledger.schema import Base

web_users = Base.metadata.tables.get("web_users") or Table(
    "web_users", Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("zones", JSON, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("session_version", Integer, nullable=False, server_default="0"),  # revision 0005
)
