"""Web accounts in the ledger (table ``web_users``, revision 0003): storage and passwords.

An account has a name, a role (``ROLES``), responsibility-zone codes (``patrol_zones.code``)
and an argon2 password hash that never leaves this module. Every change is an event of the
ledger's chain. What a role may do in the web app is :mod:`pipeline.web.users`' business.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from pipeline.errors import ConfigError, InputError
from pipeline.i18n import msg
from pipeline.ledger.events import append_event
from pipeline.ledger.schema_accounts import web_users
from pipeline.ledger.schema_work import PatrolZone

ROLES = ("analyst", "supervisor", "patrol")
MIN_PASSWORD_CHARS = 8
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """An active account as the ledger keeps it (no password hash)."""

    name: str
    role: str
    zones: tuple[str, ...] = field(default_factory=tuple)
    session_version: int = 0  #: bumped on sign-out: tokens carrying an older one are void


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password_length(source: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError(source, msg("input.password_short", count=MIN_PASSWORD_CHARS))


def add_user(conn: Connection, *, name: str, role: str, zones: list[str], password: str,
             by: str) -> Account:
    """Create an account inside the caller's write transaction (event ``user_added``)."""
    name = name.strip()
    if not name:
        raise ConfigError("NAME", msg("input.user_needs_name"))
    if role not in ROLES:
        raise ConfigError("--role", msg("input.unknown_role", role=role, roles=", ".join(ROLES)))
    _check_password_length("--password-stdin", password)
    codes = sorted({z.strip() for z in zones if z.strip()})
    if role != "analyst" and not codes:
        raise ConfigError("--zones", msg("input.user_needs_zone", role=role))
    known = set(conn.execute(select(PatrolZone.code).where(PatrolZone.code.in_(codes))).scalars())
    missing = [c for c in codes if c not in known]
    if missing:
        raise ConfigError("--zones", msg("input.no_such_zones", codes=", ".join(missing)))
    if conn.execute(select(web_users.c.id).where(web_users.c.name == name)).first() is not None:
        raise ConfigError(name, msg("input.user_exists"))
    uid = conn.execute(insert(web_users).values(
        name=name, role=role, zones=codes, password_hash=hash_password(password), active=True,
        created_at=datetime.now(UTC)).returning(web_users.c.id)).scalar_one()
    append_event(conn, entity="web_user", entity_id=uid, action="user_added", actor=by,
                 after={"name": name, "role": role, "zones": codes})
    return Account(name, role, tuple(codes))


def _account_of(row: Any) -> Account:
    return Account(row["name"], row["role"], tuple(row["zones"] or ()), int(row["session_version"] or 0))


def end_sessions(conn: Connection, name: str) -> None:
    """Void every session and token of ``name`` issued so far (signing out)."""
    conn.execute(update(web_users).where(web_users.c.name == name).values(
        session_version=web_users.c.session_version + 1))


def _active_row(conn: Connection, name: str) -> Any:
    return conn.execute(select(web_users).where(web_users.c.name == name,
                                                web_users.c.active.is_(True))).mappings().first()


def get_user(conn: Connection, name: str) -> Account | None:
    """The active account ``name``, ``None`` if unknown or disabled."""
    row = _active_row(conn, name)
    return None if row is None else _account_of(row)


def authenticate(conn: Connection, name: str, password: str) -> Account | None:
    """The account if ``password`` is right; ``None`` otherwise (same answer for unknown names)."""
    row = _active_row(conn, name)
    if row is None:
        check_password(_DUMMY_HASH, password)  # same work as a real check: no name probing by timing
        return None
    return _account_of(row) if check_password(row["password_hash"], password) else None


_DUMMY_HASH = _HASHER.hash("not-a-real-password")


def list_users(conn: Connection) -> list[dict[str, Any]]:
    """Every account (active or not) with role and zones, by name; no password hashes."""
    rows = conn.execute(select(web_users.c.name, web_users.c.role, web_users.c.zones,
                               web_users.c.active, web_users.c.created_at)
                        .order_by(web_users.c.name)).mappings()
    return [dict(r) | {"zones": list(r["zones"] or [])} for r in rows]


def _account(conn: Connection, name: str) -> Any:
    row = conn.execute(select(web_users).where(web_users.c.name == name)).mappings().first()
    if row is None:
        raise InputError(name, msg("input.no_such_user"))
    return row


def set_password(conn: Connection, *, name: str, password: str, by: str) -> None:
    """A new password for ``name`` (event ``password_reset``; the hash is never in the event)."""
    _check_password_length("password", password)
    row = _account(conn, name)
    conn.execute(update(web_users).where(web_users.c.id == row["id"])
                 .values(password_hash=hash_password(password)))
    append_event(conn, entity="web_user", entity_id=row["id"], action="password_reset", actor=by,
                 after={"name": name})


def set_active(conn: Connection, *, name: str, active: bool, by: str) -> bool:
    """Disable (or enable again) ``name``; False when it already was. A disabled account's
    sessions and tokens stop working at once (each request reads the account)."""
    row = _account(conn, name)
    if bool(row["active"]) == active:
        return False
    conn.execute(update(web_users).where(web_users.c.id == row["id"]).values(active=active))
    append_event(conn, entity="web_user", entity_id=row["id"], action="user_enabled" if active
                 else "user_disabled", actor=by, before={"active": not active}, after={"active": active})
    return True
