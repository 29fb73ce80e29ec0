"""Throttling of password checks: lockout after repeated failures, per account and per client.

Every wrong password for a user name counts against that name and against the client's
address; :data:`MAX_FAILURES` in a row lock the name (and :data:`MAX_CLIENT_FAILURES` the
address) for :data:`LOCKOUT`, during which even the right password is answered 429 with
``Retry-After``. A successful sign-in clears the name's count. Counts live in the process
(one ``landpatrol serve``), which is where the password checks happen.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import HTTPException

from pipeline import timeutil

MAX_FAILURES = 5
MAX_CLIENT_FAILURES = 20
LOCKOUT = timedelta(minutes=15)


@dataclass
class _Count:
    failures: int = 0
    locked_until: datetime | None = None


@dataclass
class Throttle:
    max_failures: int = MAX_FAILURES
    max_client_failures: int = MAX_CLIENT_FAILURES
    lockout: timedelta = LOCKOUT
    _counts: dict[str, _Count] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, name: str, client: str) -> list[tuple[str, int]]:
        return [(f"user:{name.strip().lower()}", self.max_failures),
                (f"client:{client}", self.max_client_failures)]

    def check(self, name: str, client: str) -> None:
        """Raise 429 while the name or the client is locked out (before any password check)."""
        now = timeutil.now_utc()
        with self._lock:
            waits = [c.locked_until - now for key, _ in self._keys(name, client)
                     if (c := self._counts.get(key)) and c.locked_until and c.locked_until > now]
        if waits:
            seconds = int(max(waits).total_seconds()) + 1
            raise HTTPException(429, "too many wrong passwords: try again later",
                                headers={"Retry-After": str(seconds)})

    def failed(self, name: str, client: str) -> None:
        now = timeutil.now_utc()
        with self._lock:
            for key, limit in self._keys(name, client):
                count = self._counts.setdefault(key, _Count())
                if count.locked_until and count.locked_until <= now:
                    count.failures, count.locked_until = 0, None
                count.failures += 1
                if count.failures >= limit:
                    count.locked_until = now + self.lockout

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._counts.pop(self._keys(name, "")[0][0], None)
