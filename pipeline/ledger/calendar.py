"""Working days for deadlines: weekends, China's official holidays, a configurable extra list.

Official holidays and the weekend days worked in lieu (调休) come from the ``chinese-calendar``
package for the years it covers (2004-2026 in chinese-calendar 1.11). A year it does not cover
is counted from the holiday file alone; when the file has no day of that year either, only
weekends count and a :class:`CalendarWarning` says so (once per year), since deadlines would
then fall early or late around the Spring Festival and National Day.

The holiday file (``$LANDPATROL_HOLIDAYS``, or a comma-separated list of dates) adds days off
and make-up working days, in one of three formats, chosen by the file's suffix:

- text (any other suffix): one ``YYYY-MM-DD`` per line, a trailing ``workday`` marks a make-up
  working day (``holiday`` is the default), ``#`` starts a comment;
- ``.csv``: columns ``date,kind[,name]`` (kind ``holiday`` or ``workday``), header optional;
- ``.yaml``/``.yml``: ``holidays:`` and ``workdays:``, each a list of dates (or a mapping of
  date to name).
"""
from __future__ import annotations

import csv
import io
import warnings
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


class CalendarWarning(UserWarning):
    """Deadlines of a year neither chinese-calendar nor the holiday file knows."""


_WARNED: set[int] = set()


def _warn_uncovered(year: int) -> None:
    if year in _WARNED:
        return
    _WARNED.add(year)
    warnings.warn(f"official holidays of {year} are unknown (chinese-calendar covers to 2026): "
                  f"counting weekends only; give a holiday file in ${HOLIDAYS_ENV}",
                  CalendarWarning, stacklevel=3)


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
            if day.year not in self.years:
                _warn_uncovered(day.year)
        return day.weekday() < 5

    @property
    def years(self) -> frozenset[int]:
        """Years the holiday file has days of (trusted as complete for those years)."""
        return frozenset(d.year for d in self.holidays | self.workdays)

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
    def read(cls, path: Path, official: bool = True) -> WorkCalendar:
        """A holiday file in any of the formats of the module docstring."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(path, f"holiday file cannot be read ({exc})") from None
        suffix = path.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return cls._from_yaml(text, str(path), official)
        if suffix == ".csv":
            return cls._from_csv(text, str(path), official)
        return cls.parse(text, str(path), official)

    @classmethod
    def _from_yaml(cls, text: str, source: str, official: bool) -> WorkCalendar:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date like 2027-13-01
            raise ConfigError(source, f"not valid YAML ({' '.join(str(exc).split())})") from None
        if not isinstance(data, dict) or set(data) - {"holidays", "workdays"}:
            raise ConfigError(source, "expected the keys holidays: and workdays: only")
        lines = [f"{d} {kind}" for kind in ("holiday", "workday")
                 for d in (data.get(kind + "s") or [])]
        return cls.parse("\n".join(lines), source, official)

    @classmethod
    def _from_csv(cls, text: str, source: str, official: bool) -> WorkCalendar:
        lines = []
        for row in csv.reader(io.StringIO(text)):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#") or cells[0].lower() == "date":
                continue
            lines.append(" ".join(cells[:2]))
        return cls.parse("\n".join(lines), source, official)

    @classmethod
    def parse(cls, text: str, source: str = "holidays", official: bool = True) -> WorkCalendar:
        holidays: set[date] = set()
        workdays: set[date] = set()
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
            return cls.read(path)
        if "," in value or value[:4].isdigit():
            return cls.parse(value, HOLIDAYS_ENV)
        raise ConfigError(value, f"{HOLIDAYS_ENV} is neither a file nor a list of dates")
