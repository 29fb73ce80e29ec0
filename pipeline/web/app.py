"""The FastAPI application: ``create_app(ledger_url)`` wires the ledger, API, pages and assets."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url

from pipeline.ledger import Ledger
from pipeline.web import (
    accounts,
    api,
    apidocs,
    auth,
    clues,
    dashboard,
    field,
    imagery,
    layers,
    offline,
    pages,
    patrol_pages,
    review,
    steps,
    tiles,
    today,
)
from pipeline.web.deps import MAX_UPLOAD_BYTES, LoginRequired, Settings, token_user
from pipeline.web.guard import BodyGuard, SecurityHeaders

STATIC = Path(__file__).parent / "static"


def _ledger_folder(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database).resolve().parent
    return None


def create_app(ledger_url: str, secret: str | None = None, *, runs_dir: Path | None = None,
               uploads_dir: Path | None = None, token_ttl: timedelta = auth.TOKEN_TTL,
               session_ttl: timedelta = auth.SESSION_TTL,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, basemap_url: str | None = None) -> FastAPI:
    """The web app over the ledger at ``ledger_url`` (opened, and migrated, now).

    ``runs_dir`` holds the run folders whose ``chips/<code>.png`` the lead pages show, and
    ``uploads_dir`` receives field photos; both default to the SQLite ledger's folder
    (``<folder>/attachments`` for uploads), as ``landpatrol demo`` lays them out. ``secret``
    signs tokens and cookies (default ``$LANDPATROL_WEB_SECRET``, else random per process).
    """
    ledger = Ledger.open(ledger_url)
    folder = _ledger_folder(ledger_url)
    uploads = uploads_dir or (folder / "attachments" if folder else Path("attachments").resolve())
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ledger.close()

    # FastAPI's own /docs and /redoc pull Swagger/ReDoc from a CDN, and the app must work without
    # the internet: /docs is served from the bundled swagger-ui-dist (pipeline.web.apidocs).
    app = FastAPI(title="landpatrol", lifespan=lifespan, version="0.1.0", docs_url=None,
                  redoc_url=None,
                  description="Leads of the patrol ledger (巡查台账) for field teams and provincial systems.")
    app.state.settings = Settings(ledger=ledger, secret=auth.resolve_secret(secret),
                                  runs_dir=runs_dir or folder, uploads_dir=uploads,
                                  token_ttl=token_ttl, session_ttl=session_ttl,
                                  max_upload_bytes=max_upload_bytes,
                                  basemap_url=layers.basemap_url(basemap_url))

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        ledger.read(lambda c: c.exec_driver_sql("SELECT 1").scalar())
        return {"status": "ok"}

    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(steps.router)
    app.include_router(today.router)
    app.include_router(patrol_pages.router)
    app.include_router(clues.router)
    app.include_router(tiles.router)
    app.include_router(layers.router)
    app.include_router(accounts.router)
    app.include_router(apidocs.router)
    app.include_router(offline.router)
    app.include_router(field.router)
    app.include_router(imagery.router)
    app.include_router(review.router)
    app.include_router(dashboard.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    state = app.state.settings

    def signed_in(scope: dict) -> bool:
        request = Request(scope)
        return token_user(state, dict(request.cookies), request.headers.get("authorization")) is not None

    app.add_middleware(BodyGuard, limit=lambda: state.body_limit, signed_in=signed_in)
    app.add_middleware(SecurityHeaders)
    return app
