"""Field records beyond a lead's steps: a team's zero report (巡查零报告) and the photos
uploaded with verifications, shown only to those who may see their lead.

Patrol records and zero reports are recorded in :mod:`pipeline.web.patrol_pages`.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from pipeline.timeutil import CHINA, china_day_bounds
from pipeline.web.access import lead_for
from pipeline.web.deps import Settings, page_user, settings
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
_SEPARATORS = re.compile(r"\s*[,，、;；]\s*")
PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def personnel_text(value: str) -> str:
    """Names as the ledger reads them (comma separated), whatever separator a phone typed:
    "张伟、李娜", "张伟，李娜", "张伟 李娜" (spaces part names only when nothing else does)."""
    parts = _SEPARATORS.split(value) if _SEPARATORS.search(value) else value.split()
    return ",".join(n.strip() for n in parts if n.strip())


@router.get("/leads/{code}/attachments/{aid}")
def attachment(code: str, aid: int, user: User = Depends(page_user),
               s: Settings = Depends(settings)) -> Response:
    """A photo of a lead the user may see; 404 for another zone's lead or attachment."""
    lead = lead_for(s.ledger, user, code)
    found = next((a for a in (lead or {}).get("attachments", []) if int(a["id"]) == aid), None)
    if found is None:
        raise HTTPException(404, "no such attachment")
    path = Path(found["path"])
    media = PHOTO_TYPES.get(path.suffix.lower())
    if not path.is_file() or media is None:
        raise HTTPException(404, "attachment file is not on this server")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=86400"})


def patrols_on(ledger: Any, zone: str, day: date) -> list[dict[str, Any]]:
    """Patrols recorded for responsibility zone ``zone`` that started on ``day`` in China time
    (UTC+8), with their times in China time. The ledger stores instants in UTC."""
    start, end = china_day_bounds(day)
    out = ledger.patrols_between(zone, start, end)
    for p in out:
        for k in ("started_at", "ended_at"):
            if p.get(k) is not None:
                p[k] = p[k].astimezone(CHINA)
    return out
