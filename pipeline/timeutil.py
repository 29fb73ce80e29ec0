"""Times, one rule: stored as UTC instants, shown and reasoned about in China time.

Every "now" and "today" of landpatrol comes from here. A bureau's day is China's
(Asia/Shanghai, UTC+8): at 02:52 China time on 12-02 it is still 12-01 in UTC, and a step taken
then is dated 12-02, its deadline counted from 12-02, the patrol sheet and its GPX file named
12-02. Tests freeze the clock by replacing :data:`clock`.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    return datetime.now(UTC)


#: the one clock every "now" comes from (tests set it to a fixed instant)
clock: Callable[[], datetime] = system_clock


def now_utc() -> datetime:
    """The current instant, aware, in UTC."""
    return clock()


def china_now() -> datetime:
    """The current instant in China time."""
    return now_utc().astimezone(CHINA)


def china_today() -> date:
    """Today's date in China, whatever the machine's time zone."""
    return china_now().date()


def as_utc(dt: datetime) -> datetime:
    """An instant as an aware UTC datetime; a naive value is read as UTC (as databases hand
    back what was stored in UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def from_china(dt: datetime) -> datetime:
    """An instant a person typed: a naive value is China wall time; returned aware, in UTC."""
    return as_utc(dt.replace(tzinfo=CHINA) if dt.tzinfo is None else dt)


def to_china(value: datetime | str) -> datetime:
    """An instant (aware, naive UTC, or ISO text as events store it) in China time."""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return as_utc(dt).astimezone(CHINA)


def china_text(value: datetime | str | None, seconds: bool = False) -> str:
    """``YYYY-MM-DD HH:MM`` in China time, for tables and pages ('' for nothing)."""
    if value is None or value == "":
        return ""
    return to_china(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def china_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants ``[start, end)`` of China day ``day``."""
    start = datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC)
    return start, start + timedelta(days=1)
