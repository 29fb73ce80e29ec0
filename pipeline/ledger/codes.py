"""Keys and codes: the pair key that makes a rerun add nothing, and lead codes.

A lead code is ``<REGION>-<YEAR>-<NNNN>`` (e.g. ``NANJING-2024-0007``): the region name
upper-cased with every run of non-word characters replaced by ``-``, the year the lead was
first seen, and a sequence per region-year allocated inside the writing transaction (the
``lead_sequences`` row is read and bumped by the one writer that holds the ledger lock).
"""
from __future__ import annotations

import re

from sqlalchemy import Connection, insert, select, update

from pipeline.identity import canonical_json, jsonable, pair_key
from pipeline.ledger.schema import LeadSequence

__all__ = ["allocate_code", "canonical_json", "jsonable", "pair_key", "region_prefix"]

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def region_prefix(region: str) -> str:
    slug = _NON_WORD.sub("-", region).strip("-").upper()
    return slug or "REGION"


def allocate_code(conn: Connection, region: str, year: int) -> str:
    """The next free code of ``region`` in ``year``; call inside the write transaction."""
    prefix = f"{region_prefix(region)}-{year:04d}"
    last = conn.execute(select(LeadSequence.last).where(LeadSequence.prefix == prefix)).scalar()
    if last is None:
        conn.execute(insert(LeadSequence).values(prefix=prefix, last=1))
        nxt = 1
    else:
        nxt = last + 1
        conn.execute(update(LeadSequence).where(LeadSequence.prefix == prefix).values(last=nxt))
    return f"{prefix}-{nxt:04d}"
