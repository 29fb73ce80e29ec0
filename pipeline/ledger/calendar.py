"""Working days for deadlines: weekends, China's official holidays, a configurable extra list.

Official holidays and the weekend days worked in lieu (调休) come from the ``chinese-calendar``
package for the years it covers; outside them only weekends count as days off. Bureaus add
local days off (or extra working days) with a holiday file: one ``YYYY-MM-DD`` per line, a
trailing ``workday`` marks a working day, ``#`` starts a comment. ``$LANDPATROL_HOLIDAYS`` names
that file (or holds a comma-separated list of dates).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline import settings
from pipeline.errors import ConfigError

HOLIDAYS_ENV = settings.HOLIDAYS_ENV
REPORT_DEADLINE_WORKING_DAYS = 2  # violation report form within 2 working days of verification


def _official_workday(day: date) -> bool | None:
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # year not covered
        return None


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    official: bool = True

    def is_workday(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        if self.official:
            known = _official_workday(day)
            if known is not None:
                return known
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted)."""
        day, left = start, n
        while left > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]`` (negative when ``end`` is before ``start``)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_workday(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

    @classmethod
    def parse(cls, text: str, source: str = "holidays", official: bool = True) -> WorkCalendar:
        holidays, workdays = set(), set()
        for lineno, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            try:
                day = date.fromisoformat(parts[0])
            except ValueError:
                raise ConfigError(source, f"line {lineno}: '{parts[0]}' is not a YYYY-MM-DD date") from None
            kind = parts[1].lower() if len(parts) > 1 else "holiday"
            if kind not in ("holiday", "workday"):
                raise ConfigError(source, f"line {lineno}: '{kind}' is neither holiday nor workday")
            (workdays if kind == "workday" else holidays).add(day)
        return cls(frozenset(holidays), frozenset(workdays), official)

    @classmethod
    def from_env(cls) -> WorkCalendar:
        """Official calendar plus ``$LANDPATROL_HOLIDAYS`` (a file, or dates separated by commas)."""
        value = settings.load().holidays
        if not value:
            return cls()
        path = Path(value)
        if path.is_file():
            return cls.parse(path.read_text(encoding="utf-8"), str(path))
        if "," in value or value[:4].isdigit():
            return cls.parse(value, HOLIDAYS_ENV)
        raise ConfigError(value, f"{HOLIDAYS_ENV} is neither a file nor a list of dates")
