"""Form values as the ledger reads them, and refused input as one sentence in the user's
language (the page is shown again with what was typed)."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pipeline.ledger import TransitionError
from pipeline.web.field import CHINA


class Problem(Exception):
    """Input the app refuses: a ``web.*`` key of the message catalogue and its values (a
    refusal of the ledger itself is shown as the ledger's own sentence in the user's language)."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key, self.values = key, values

    def sentence(self, t: Any, lang: str = "zh") -> str:
        if isinstance(self.values.get("error"), BaseException):
            from pipeline.web.i18n import error_text

            return error_text(self.values["error"], lang)
        return str(t(self.key)).format(**{k: t(v) if isinstance(v, str) else v
                                          for k, v in self.values.items()})


_STATE = re.compile(r"cannot go from (\w+) to")
_USED = re.compile(r"(notice_no|case_no) (.+) is already used")


def from_ledger(exc: TransitionError) -> Problem:
    """A refused lifecycle step as a :class:`Problem` the user can read."""
    text = exc.problem
    if m := _STATE.search(text):
        return Problem("err_state", status=m.group(1))
    if m := _USED.search(text):
        return Problem("err_used", no=m.group(2))
    if "in the future" in text:
        return Problem("err_future")
    if "two personnel" in text:
        return Problem("err_personnel")
    return Problem("err_ledger", error=exc)


def when(value: str | None) -> datetime | None:
    """A ``datetime-local`` value; without an offset it is the team's clock (China time)."""
    if not value or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Problem("err_date", value=value) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=CHINA)


def day(value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Problem("err_date", value=value) from None


def coord(value: str | None, lo: float, hi: float) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        x = float(value)
    except ValueError:
        raise Problem("err_number", value=value) from None
    if not lo <= x <= hi:
        raise Problem("err_number", value=value)
    return x


def names(value: str) -> list[str]:
    """Names however a phone typed them: "张伟、李娜", "张伟，李娜", "张伟 李娜"."""
    parts = re.split(r"\s*[,，、;；]\s*", value) if re.search(r"[,，、;；]", value) else value.split()
    out: list[str] = []
    for n in (p.strip() for p in parts):
        if n and n not in out:
            out.append(n)
    return out
