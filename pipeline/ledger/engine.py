"""Connecting to a ledger: URL checks, engine set-up per backend, serialised write transactions.

SQLite (the embedded default) runs in WAL mode with a busy timeout; every write transaction
starts with ``BEGIN IMMEDIATE`` so two writers queue on the database lock *before* reading
anything (no lost updates, no upgrade deadlock), reads start with a plain deferred ``BEGIN``.
PostgreSQL write transactions take one transaction-scoped advisory lock, which serialises
writers the same way (the event chain and the per-region lead codes need a single writer).
Errors from the driver become :class:`~pipeline.errors.LedgerError` with a one-line problem.
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from pipeline.errors import InputError, LedgerError
from pipeline.i18n import msg

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 60.0
PG_CONNECT_TIMEOUT_S = 5
PG_WRITE_LOCK_KEY = 0x4C504C44  # 'LPLD': the one advisory lock every ledger writer takes
WRITE_RETRIES = 8
_READ_OPTION = "landpatrol_read"


def redact(url: str) -> str:
    """The URL as it may be printed: any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL has nothing to hide we can find
        return url


def parse_url(url: str) -> URL:
    """Parse and normalise a ledger URL; ``postgresql://`` uses psycopg 3 when psycopg2 is absent."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise LedgerError(redact(url), f"not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(redact(url), f"unsupported database '{backend}' (use sqlite:/// or postgresql://)")
    if backend == "postgresql" and parsed.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(parsed: URL) -> Path | None:
    """The database file of a SQLite URL, ``None`` for an in-memory database."""
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def check_sqlite_location(url: str, path: Path) -> None:
    """Refuse a SQLite file that cannot be created or written, before SQLite tries."""
    if path.exists():
        if path.is_dir():
            raise LedgerError(url, f"{path} is a directory, not a SQLite file")
        if not os.access(path, os.R_OK | os.W_OK):
            raise LedgerError(url, f"{path} is not readable and writable")
        return
    parent = path.parent
    if not parent.is_dir():
        raise LedgerError(url, f"directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise LedgerError(url, f"directory {parent} is not writable")


SQLITE_MAGIC = b"SQLite format 3\x00"


def check_sqlite_file(url: str, path: Path, create: bool) -> None:
    """Refuse a missing ledger (unless ``create``; an :class:`InputError`) and a file that is
    not a SQLite database (a :class:`LedgerError`)."""
    if not path.exists():
        if not create:  # a mistyped path is bad input (exit 2), not a broken ledger
            raise InputError(url, msg("input.no_ledger", path=str(path)))
        return
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head and head != SQLITE_MAGIC:
        raise LedgerError(url, f"{path} is not a landpatrol ledger (not a SQLite database)")


def make_engine(parsed: URL) -> Engine:
    """An engine with the per-backend hooks described in the module docstring."""
    if parsed.get_backend_name() == "sqlite":
        in_memory = sqlite_path(parsed) is None
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            poolclass=StaticPool if in_memory else None,
        )
        _install_sqlite_hooks(engine, wal=not in_memory)
        return engine
    engine = create_engine(
        parsed, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}, pool_pre_ping=True
    )
    _install_pg_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: Engine, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read = conn.get_execution_options().get(_READ_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def _install_pg_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(_READ_OPTION, False):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_WRITE_LOCK_KEY})


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a read-only (deferred, unlocked) transaction."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{_READ_OPTION: True})
        with conn.begin():
            yield conn


def _transient(exc: DBAPIError) -> bool:
    msg = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return (
        "database is locked" in msg
        or "database is busy" in msg
        or code in ("40001", "40P01", "55P03")  # serialization failure, deadlock, lock timeout
    )


def run_write(engine: Engine, url: str, fn: Callable[[Connection], T]) -> T:
    """Run ``fn`` in one serialised write transaction; retried whole when the lock was busy.

    Anything ``fn`` raises rolls the transaction back. Driver errors come out as
    :class:`LedgerError`; landpatrol's own errors pass through unchanged.
    """
    delay = 0.05
    for attempt in range(WRITE_RETRIES):
        try:
            with engine.begin() as conn:
                return fn(conn)
        except DBAPIError as exc:
            if _transient(exc) and attempt < WRITE_RETRIES - 1:
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 2.0)
                continue
            raise LedgerError(url, describe(exc)) from None
        except (NoSuchModuleError, SQLAlchemyError) as exc:
            raise LedgerError(url, describe(exc)) from None
    raise AssertionError("unreachable")  # pragma: no cover


def run_read(engine: Engine, url: str, fn: Callable[[Connection], T]) -> T:
    """Run ``fn`` in a read transaction; driver errors come out as :class:`LedgerError`."""
    try:
        with read_connection(engine) as conn:
            return fn(conn)
    except (OperationalError, DBAPIError, SQLAlchemyError) as exc:
        raise LedgerError(url, describe(exc)) from None


def describe(exc: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's statement dump and links."""
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc).strip()
    first = msg.splitlines()[0] if msg else type(exc).__name__
    return first.split("(Background on this error")[0].strip()
