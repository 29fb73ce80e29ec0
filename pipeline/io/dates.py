"""Acquisition dates written in product and file names, and in metadata values.

One parser for the whole project: tiles (:mod:`pipeline.io.tiles`), regions
(:mod:`pipeline.region`) and sensor guessing read dates the same way.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

_LANDSAT_DOY = re.compile(r"(?<![A-Z0-9])L[TEMCO][4-9]\d{6}(\d{4})(\d{3})", re.IGNORECASE)
_LANDSAT_C = re.compile(r"(?<![A-Z0-9])L[TEMCO]0[4-9]_L\w{3}_\d{6}_(\d{8})_", re.IGNORECASE)
_S2_TIME = re.compile(r"(?<!\d)(\d{8})T\d{6}(?!\d)")
_ISO = re.compile(r"(?<!\d)(\d{4})[-_.](\d{2})[-_.](\d{2})(?!\d)")
_COMPACT = re.compile(r"(?<!\d)(\d{8})(?!\d)")


def _ymd(text: str) -> date | None:
    try:
        d = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None
    return d if 1970 <= d.year <= 2100 else None


def date_from_name(name: str) -> tuple[date, str] | None:
    """Acquisition date encoded in a file or folder name, and which convention gave it.

    Landsat scene ids (``LT51200382000124BJC00``: year 2000, day 124), Landsat collection ids
    (``LC08_L1TP_120038_20200101_...``), Sentinel-2 sensing times (``..._20160120T104345_...``,
    ``T40QBM_20180328T065919_B01``), then a plain ``YYYY-MM-DD`` (also ``_`` or ``.`` separated) or ``YYYYMMDD``.
    """
    m = _LANDSAT_DOY.search(name)
    if m:
        try:
            return date(int(m.group(1)), 1, 1) + timedelta(days=int(m.group(2)) - 1), "landsat scene id"
        except (ValueError, OverflowError):
            pass
    for pattern, what in ((_LANDSAT_C, "landsat product id"), (_S2_TIME, "sentinel-2 name")):
        m = pattern.search(name)
        if m and _ymd(m.group(1)):
            return _ymd(m.group(1)), what  # type: ignore[return-value]
    m = _ISO.search(name)
    if m and _ymd("".join(m.groups())):
        return _ymd("".join(m.groups())), "date in name"  # type: ignore[return-value]
    for m in _COMPACT.finditer(name):
        if _ymd(m.group(1)):
            return _ymd(m.group(1)), "date in name"  # type: ignore[return-value]
    return None


def date_from_metadata(value: str) -> date | None:
    """A date from a metadata value: ISO ``2000-05-03T02:..``, TIFF ``2000:05:03 02:..``."""
    m = re.search(r"(\d{4})[-:/](\d{1,2})[-:/](\d{1,2})", value or "")
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    m = _COMPACT.search(value or "")
    return _ymd(m.group(1)) if m else None
