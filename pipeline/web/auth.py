"""Signed, expiring credentials: API bearer tokens and session cookies (HS256 JWTs), and
the CSRF check of form posts (double submit: a random HttpOnly cookie echoed in the form).

Tokens carry only the user name; the account is read again on each request, so a disabled
account or changed zones take effect at once.
"""
from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

import jwt

from pipeline import settings

TOKEN_TTL = timedelta(hours=8)
SESSION_TTL = timedelta(hours=12)
SESSION_COOKIE = "lp_session"
CSRF_COOKIE = "lp_csrf"
CSRF_FIELD = "csrf_token"
SECRET_ENV = settings.WEB_SECRET_ENV
_ALG = "HS256"


def resolve_secret(secret: str | None) -> str:
    """``secret``, else ``$LANDPATROL_WEB_SECRET``, else a random one (sessions end on restart)."""
    return secret or settings.load().web_secret or secrets.token_urlsafe(32)


def issue(secret: str, name: str, kind: str, ttl: timedelta, now: datetime | None = None,
          version: int = 0) -> str:
    """A token for ``name`` of ``kind`` ("api" or "session") valid for ``ttl`` from ``now``;
    ``version`` is the account's session version (signing out bumps it, ending the token)."""
    at = now or datetime.now(UTC)
    return jwt.encode({"sub": name, "typ": kind, "iat": at, "exp": at + ttl, "ver": version}, secret,
                      algorithm=_ALG)


def claims(secret: str, token: str, kind: str) -> tuple[str, int] | None:
    """``(user name, session version)`` of a valid, unexpired token of ``kind``; else ``None``."""
    try:
        found = jwt.decode(token, secret, algorithms=[_ALG], options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        return None
    if found.get("typ") != kind:
        return None
    ver = found.get("ver", 0)
    return str(found["sub"]), int(ver) if isinstance(ver, int) else -1


def subject(secret: str, token: str, kind: str) -> str | None:
    """The user name in a valid, unexpired token of ``kind``; ``None`` otherwise."""
    found = claims(secret, token, kind)
    return None if found is None else found[0]


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie), str(submitted))
