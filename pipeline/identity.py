"""What makes two runs the same run: a pair's identity as one canonical text and its sha256.

Kept apart from the ledger (and from SQLAlchemy) so that planning a pair, which computes the
pair key before any store is opened, imports no database code.
"""
from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from typing import Any


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
