"""Request dependencies: the app's settings, the signed-in user, the CSRF check."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from pipeline import settings as env_settings
from pipeline.ledger import Ledger
from pipeline.web import auth
from pipeline.web.throttle import Throttle
from pipeline.web.users import User, as_user

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
#: room for the form fields and multipart framing around the largest photo
FORM_OVERHEAD_BYTES = 64 * 1024

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
    basemap_url: str | None = None  # an intranet XYZ template; none by default
    throttle: Throttle = field(default_factory=Throttle)
    #: cookies carry ``Secure``: always (``$LANDPATROL_WEB_SECURE_COOKIES``), else when the
    #: request came over HTTPS; ``X-Forwarded-Proto`` counts only with ``trust_proxy``
    secure_cookies: bool = field(default_factory=lambda: env_settings.load().web_secure_cookies)
    trust_proxy: bool = field(default_factory=lambda: env_settings.load().web_trust_proxy)

    @property
    def body_limit(self) -> int:
        return self.max_upload_bytes + FORM_OVERHEAD_BYTES

    def cookie_secure(self, request: Request) -> bool:
        if self.secure_cookies or request.url.scheme == "https":
            return True
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return self.trust_proxy and forwarded == "https"


def settings(request: Request) -> Settings:
    return request.app.state.settings


def _load(s: Settings, found: tuple[str, int] | None) -> User | None:
    if found is None:
        return None
    name, version = found
    user = as_user(s.ledger.get_user(name))
    return user if user is not None and user.session_version == version else None


def token_user(s: Settings, cookies: dict[str, str], authorization: str | None) -> User | None:
    """The user of a bearer token, else of the session cookie; ``None`` when neither is valid."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return _load(s, auth.claims(s.secret, token.strip(), "api"))
    session = cookies.get(auth.SESSION_COOKIE)
    return _load(s, auth.claims(s.secret, session, "session")) if session else None


def session_user(request: Request, s: Settings = Depends(settings)) -> User | None:
    token = request.cookies.get(auth.SESSION_COOKIE)
    return _load(s, auth.claims(s.secret, token, "session")) if token else None


def api_user(request: Request, token: str | None = Depends(oauth2),
             s: Settings = Depends(settings)) -> User:
    """Bearer token, or the page session (the map page fetches with its cookie); else 401."""
    user = _load(s, auth.claims(s.secret, token, "api")) if token else session_user(request, s)
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
