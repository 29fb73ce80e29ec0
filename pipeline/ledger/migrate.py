"""Schema creation and upgrade through Alembic, run programmatically when a ledger is opened.

The Alembic configuration is built in code and the revision scripts ship inside the package
(``pipeline/ledger/migrations``), so there is no ``alembic.ini`` to find. The upgrade runs in
the ledger's own serialised write transaction: two processes opening a fresh ledger at once
migrate it once.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


#: tables a database may hold besides a ledger's own (PostGIS's, SQLite's)
SYSTEM_TABLES = frozenset({"spatial_ref_sys", "alembic_version"})


def check_is_ledger(connection: Connection, create: bool) -> None:
    """Refuse a database that is not a landpatrol ledger: one holding other tables and no
    ledger revision, or (``create=False``) an empty one. Raises ``ValueError``."""
    if current_revision(connection) is not None:
        return
    tables = [t for t in inspect(connection).get_table_names()
              if t not in SYSTEM_TABLES and not t.startswith("sqlite_")]
    if tables:
        raise ValueError(f"not a landpatrol ledger (it holds other tables: {', '.join(sorted(tables)[:5])})")
    if not create:
        raise ValueError("not a landpatrol ledger (an empty database); run a pair into it first")


def upgrade(connection: Connection, create: bool = True) -> str | None:
    """Bring the schema to the newest revision; returns the revision found before.

    Raises ``ValueError`` when the database carries a revision this code does not know (a
    ledger written by a newer landpatrol), or is not a ledger (:func:`check_is_ledger`).
    """
    check_is_ledger(connection, create)
    cfg = alembic_config(connection)
    before = current_revision(connection)
    scripts = ScriptDirectory.from_config(cfg)
    if before is not None:
        try:
            known = scripts.get_revision(before) is not None
        except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
            known = False
        if not known:
            raise ValueError(f"ledger schema revision {before} is unknown to this landpatrol (newer?)")
    if before != scripts.get_current_head():
        command.upgrade(cfg, "head")
    return before
