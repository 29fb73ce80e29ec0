"""Patrol plans: the minimum patrol frequency of each zone level and the key periods that raise it.

Defaults (county dynamic-patrol rules, 动态巡查制度, as most counties write them):

=====  ==========================================  =====================
level  zones                                        minimum
=====  ==========================================  =====================
1      重点区域: basic farmland next to towns, roads  2 patrols a week
2      一般区域                                      1 patrol a week
3      其他区域 (mountains, remote villages)          2 patrols a month
=====  ==========================================  =====================

Key periods (重点时段) double the frequency: the Spring Festival (农历 holidays, taken here as
15 Jan - 28 Feb when villagers build at home), the spring farming season (1 Mar - 31 May) and
the autumn harvest (15 Sep - 31 Oct), when farmland is most often built or dug on. A YAML or
JSON plan file overrides both::

    levels: {1: {per: week, times: 3}, 2: {per: week, times: 1}, 3: {per: month, times: 2}}
    key_periods:
      - {name: 春节前后, from: 01-15, to: 02-28, factor: 2}

The required number of patrols of a zone over a period is the sum over its days of
``times / days-of-the-unit * factor(day)`` (months by their calendar length), rounded up: a
level-1 zone needs 2 patrols in a plain week, 4 in a week of a key period, ceil(31 * 2/7) = 9 in
a plain 31-day month; a level-3 zone 2 in any plain calendar month.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

UNITS = ("day", "week", "half-month", "month")


def _month_days(day: date) -> int:
    nxt = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return (nxt - date(day.year, day.month, 1)).days


@dataclass(frozen=True)
class Frequency:
    times: float
    per: str

    def per_day(self, day: date) -> float:
        """Share of the minimum that falls on ``day`` (months and half-months by the calendar)."""
        if self.per == "day":
            return self.times
        if self.per == "week":
            return self.times / 7.0
        return self.times * (2 if self.per == "half-month" else 1) / _month_days(day)

    def text_zh(self) -> str:
        unit = {"day": "每天", "week": "每周", "half-month": "每半月", "month": "每月"}[self.per]
        return f"{unit}不少于{self.times:g}次"


@dataclass(frozen=True)
class KeyPeriod:
    name: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    factor: float

    def holds(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # spans the new year


@dataclass(frozen=True)
class PatrolPlan:
    levels: dict[int, Frequency] = field(default_factory=lambda: {
        1: Frequency(2, "week"), 2: Frequency(1, "week"), 3: Frequency(2, "month")})
    key_periods: tuple[KeyPeriod, ...] = (
        KeyPeriod("春节前后", (1, 15), (2, 28), 2.0),
        KeyPeriod("春耕", (3, 1), (5, 31), 2.0),
        KeyPeriod("秋收", (9, 15), (10, 31), 2.0),
    )

    def factor(self, day: date) -> float:
        return max([k.factor for k in self.key_periods if k.holds(day)], default=1.0)

    def required(self, level: int, start: date, end: date) -> int | None:
        """Patrols a zone of ``level`` needs in ``[start, end]``; None when the level has no rule."""
        freq = self.levels.get(int(level))
        if freq is None:
            return None
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        total = sum(freq.per_day(day) * self.factor(day) for day in days)
        return math.ceil(round(total, 9))


def _md(value: Any, source: str) -> tuple[int, int]:
    try:
        m, d = (int(x) for x in str(value).strip().split("-"))
        date(2000, m, d)
    except ValueError:
        raise ConfigError(source, f"'{value}' is not a MM-DD day") from None
    return m, d


def parse_plan(doc: Any, source: str = "patrol plan") -> PatrolPlan:
    if not isinstance(doc, dict) or set(doc) - {"levels", "key_periods"}:
        raise ConfigError(source, "a patrol plan is a mapping with keys levels and key_periods")
    base = PatrolPlan()
    levels = dict(base.levels)
    for key, spec in (doc.get("levels") or {}).items():
        if not isinstance(spec, dict) or spec.get("per") not in UNITS:
            raise ConfigError(source, f"level {key}: needs per (one of {', '.join(UNITS)}) and times")
        try:
            times = float(spec["times"])
            level = int(key)
        except (KeyError, TypeError, ValueError):
            raise ConfigError(source, f"level {key}: times must be a number") from None
        if times <= 0:
            raise ConfigError(source, f"level {key}: times must be positive")
        levels[level] = Frequency(times, spec["per"])
    keys = base.key_periods
    if "key_periods" in doc:
        items = []
        for i, kp in enumerate(doc.get("key_periods") or []):
            if not isinstance(kp, dict):
                raise ConfigError(source, f"key period {i + 1} is not a mapping")
            factor = float(kp.get("factor", 2))
            if factor < 1:
                raise ConfigError(source, f"key period {i + 1}: factor below 1 would lower the minimum")
            items.append(KeyPeriod(str(kp.get("name") or f"key period {i + 1}"),
                                   _md(kp.get("from"), source), _md(kp.get("to"), source), factor))
        keys = tuple(items)
    return PatrolPlan(levels, keys)


def load_plan(path: str | Path | None) -> PatrolPlan:
    """The plan in ``path`` (YAML/JSON), or the defaults when ``path`` is None."""
    if path is None:
        return PatrolPlan()
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ConfigError(p, "patrol plan file not found")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(p, f"not YAML/JSON: {str(exc).splitlines()[0]}") from None
    return parse_plan(doc, str(p))
