"""The installable field app: a web manifest and a service worker served from the site's root
(its scope is the whole app). The worker keeps the day's sheet, lead pages, chips and the
tiles around each target for when the signal is gone; the pages queue verifications, photos
and patrol records in IndexedDB and send them when the phone is back online, each with its
``submission_key`` so the ledger records it once (see :mod:`pipeline.web.steps`).
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from pipeline.web.i18n import lang_of, translator

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"


@router.get("/sw.js")
def service_worker() -> Response:
    return FileResponse(STATIC / "sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    t = translator(lang_of(request))
    return JSONResponse({
        "name": t("title"), "short_name": t("title"), "start_url": "/sheet", "scope": "/",
        "display": "standalone", "background_color": "#ffffff", "theme_color": "#223344",
        "icons": [{"src": f"/static/icons/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"}
                  for n in (192, 512)],
    }, media_type="application/manifest+json")
