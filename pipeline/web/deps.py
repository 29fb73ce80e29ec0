"""Request dependencies: the app's settings, the signed-in user, the CSRF check."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from pipeline.ledger import Ledger
from pipeline.web import auth
from pipeline.web.users import User, get_user

MAX_UPLOAD_BYTES = 15 * 1024 * 1024

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


@dataclass
class Settings:
    ledger: Ledger
    secret: str
    runs_dir: Path | None
    uploads_dir: Path
    token_ttl: timedelta = auth.TOKEN_TTL
    session_ttl: timedelta = auth.SESSION_TTL
    max_upload_bytes: int = MAX_UPLOAD_BYTES


def settings(request: Request) -> Settings:
    return request.app.state.settings


def _load(s: Settings, name: str | None) -> User | None:
    if name is None:
        return None
    return s.ledger.read(lambda c: get_user(c, name))


def session_user(request: Request, s: Settings = Depends(settings)) -> User | None:
    token = request.cookies.get(auth.SESSION_COOKIE)
    return _load(s, auth.subject(s.secret, token, "session")) if token else None


def api_user(request: Request, token: str | None = Depends(oauth2),
             s: Settings = Depends(settings)) -> User:
    """Bearer token, or the page session (the map page fetches with its cookie); else 401."""
    user = _load(s, auth.subject(s.secret, token, "api")) if token else session_user(request, s)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not signed in or token expired",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


class LoginRequired(Exception):
    """Raised by page dependencies; the app answers with a redirect to the login page."""


def page_user(user: User | None = Depends(session_user)) -> User:
    if user is None:
        raise LoginRequired()
    return user


def check_csrf(request: Request, submitted: str | None) -> None:
    if not auth.csrf_ok(request.cookies.get(auth.CSRF_COOKIE), submitted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")
