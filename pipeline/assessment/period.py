"""Reporting periods (month, quarter, half-year, year, any span) and their due dates.

Periods are China calendar days (Asia/Shanghai); instants stored in UTC (patrol times) fall in
the period when their China date does. Due dates follow the county rules: the monthly report by
the 20th of the next month, quarterly and half-year analyses by the 20th of the month after the
period, the annual summary by 20 December of its year.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError

CHINA = ZoneInfo("Asia/Shanghai")
KINDS = ("monthly", "quarterly", "half-year", "annual", "span")
NAMES_ZH = {"monthly": "月度", "quarterly": "季度", "half-year": "半年", "annual": "年度", "span": "期间"}


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date
    label: str

    @property
    def title_zh(self) -> str:
        s, e = self.start, self.end
        if self.kind == "monthly":
            return f"{s.year}年{s.month}月"
        if self.kind == "quarterly":
            return f"{s.year}年第{(s.month - 1) // 3 + 1}季度"
        if self.kind == "half-year":
            return f"{s.year}年{'上' if s.month == 1 else '下'}半年"
        if self.kind == "annual":
            return f"{s.year}年"
        return f"{s.isoformat()} 至 {e.isoformat()}"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """First and last instant of the period in UTC (China days)."""
        lo = datetime.combine(self.start, time.min, CHINA).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, CHINA).astimezone(UTC)
        return lo, hi - timedelta(microseconds=1)

    def months(self) -> list[Period]:
        """The calendar months the period covers (clipped to it), for trends."""
        out, y, m = [], self.start.year, self.start.month
        while date(y, m, 1) <= self.end:
            mp = month(f"{y:04d}-{m:02d}")
            out.append(Period("monthly", max(mp.start, self.start), min(mp.end, self.end), mp.label))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def due(self) -> date | None:
        """The day the report of this period is due (None for an arbitrary span)."""
        if self.kind == "annual":
            return date(self.start.year, 12, 20)
        if self.kind in ("monthly", "quarterly", "half-year"):
            nxt = self.end + timedelta(days=1)
            return date(nxt.year, nxt.month, 20)
        return None


def _last_day(y: int, m: int) -> date:
    return (date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)) - timedelta(days=1)


def month(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ConfigError("--month", f"'{text}' is not YYYY-MM")
    y, mo = int(m.group(1)), int(m.group(2))
    return Period("monthly", date(y, mo, 1), _last_day(y, mo), f"{y:04d}-{mo:02d}")


def _parts(text: str, pattern: str, option: str, form: str) -> tuple[int, int]:
    m = re.fullmatch(pattern, text.strip())
    if not m:
        raise ConfigError(option, f"'{text}' is not {form}")
    return int(m.group(1)), int(m.group(2))


def quarter(text: str) -> Period:
    y, q = _parts(text, r"(\d{4})[Qq]([1-4])", "--quarter", "YYYYQn (n = 1..4)")
    return Period("quarterly", date(y, 3 * q - 2, 1), _last_day(y, 3 * q), f"{y}Q{q}")


def half(text: str) -> Period:
    y, h = _parts(text, r"(\d{4})[Hh]([12])", "--half", "YYYYHn (n = 1 or 2)")
    return Period("half-year", date(y, 6 * h - 5, 1), _last_day(y, 6 * h), f"{y}H{h}")


def year(value: int | str) -> Period:
    try:
        y = int(value)
    except ValueError:
        raise ConfigError("--year", f"'{value}' is not a year") from None
    if not 1900 <= y <= 9999:
        raise ConfigError("--year", f"{y} is out of range")
    return Period("annual", date(y, 1, 1), date(y, 12, 31), str(y))


def span(start: date, end: date) -> Period:
    if end < start:
        raise ConfigError("--to", f"{end} is before --from {start}")
    return Period("span", start, end, f"{start.isoformat()}..{end.isoformat()}")


def china_today() -> date:
    return datetime.now(CHINA).date()
