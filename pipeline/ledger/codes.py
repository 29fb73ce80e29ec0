"""Keys and codes: the pair key that makes a rerun add nothing, and lead codes.

A lead code is ``<REGION>-<YEAR>-<NNNN>`` (e.g. ``NANJING-2024-0007``): the region name
upper-cased with every run of non-word characters replaced by ``-``, the year the lead was
first seen, and a sequence per region-year allocated inside the writing transaction (the
``lead_sequences`` row is read and bumped by the one writer that holds the ledger lock).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipeline.ledger.schema import LeadSequence

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, dates, NaN and tuples turned into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())  # numpy arrays and scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return str(value)


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def pair_key(before_hash: str, after_hash: str, detector_name: str, detector_version: str,
             parameters: dict[str, Any] | None = None) -> str:
    """sha256 of the pair's content hashes, the detector and its parameters.

    Two runs with the same key would find the same patches, so the second adds nothing.
    """
    payload = canonical_json({
        "before": before_hash, "after": after_hash, "detector": detector_name,
        "version": detector_version, "parameters": parameters or {},
    })
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
