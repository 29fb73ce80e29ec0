"""One identity per region: its code (the prefix of its lead codes, ``NJ``) and its name
(``nanjing``, what a user types). Either resolves to the code; an unknown one is refused.

A run registers its region (code and name) in the same transaction that records it; ledgers
from before revision 0004 know their regions by code only until a run names them.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from pipeline.errors import ConfigError
from pipeline.ledger.schema import Lead, Region


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def known_regions(conn: Connection) -> dict[str, str | None]:
    """Code -> name of every region the ledger knows (leads of a region count too)."""
    known: dict[str, str | None] = {r.code: r.name for r in conn.execute(select(Region.code, Region.name))}
    for code in conn.execute(select(Lead.region).distinct()).scalars():
        known.setdefault(code, None)
    return known


def region_of(conn: Connection, text: str) -> str | None:
    """The code of the region named or coded ``text`` (case-insensitive); ``None`` if unknown."""
    known, wanted = known_regions(conn), _fold(text)
    for code in known:
        if _fold(code) == wanted:
            return code
    for code, name in known.items():
        if name is not None and _fold(name) == wanted:
            return code
    return None


def resolve_region(conn: Connection, text: str) -> str:
    """:func:`region_of`, refusing an unknown region with the known ones named."""
    code = region_of(conn, text)
    if code is None:
        known = known_regions(conn)
        listed = ", ".join(f"{c} ({n})" if n else c for c, n in sorted(known.items())) or "none yet"
        raise ConfigError(text, f"unknown region (known: {listed})")
    return code


def register_region(conn: Connection, code: str, name: str | None) -> None:
    """Record region ``code`` (and its name, when the ledger has none for it yet)."""
    row = conn.execute(select(Region.name).where(Region.code == code)).first()
    taken = name is not None and conn.execute(select(func.count()).select_from(Region).where(
        Region.name == name, Region.code != code)).scalar()
    name = None if taken else name
    if row is None:
        conn.execute(insert(Region).values(code=code, name=name, created_at=datetime.now(UTC)))
    elif row[0] is None and name is not None:
        conn.execute(update(Region).where(Region.code == code).values(name=name))
