"""``/docs``: Swagger UI for the JSON API, from the package's bundled copy of swagger-ui-dist
(``static/vendor/swagger-ui-dist``, see ``scripts/bundle_web_assets.py``): no CDN, no inline
script, works on a bureau intranet without the internet."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline.web.pages import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> Response:
    return templates.TemplateResponse(request, "docs.html", {"title": request.app.title})
