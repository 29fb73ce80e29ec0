"""Field records beyond a lead's steps: a team's zero report (巡查零报告) and the photos
uploaded with verifications, shown only to those who may see their lead.

A zero report is a patrol of a responsibility zone that found nothing; it goes through
:func:`pipeline.ledger.patrols.add_patrol` (>= 2 personnel, event ``patrol_recorded``).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from pipeline.errors import LedgerError
from pipeline.ledger.patrols import add_patrol, as_utc
from pipeline.ledger.schema_work import Patrol, PatrolZone
from pipeline.timeutil import CHINA, china_day_bounds, from_china
from pipeline.web.access import lead_for, visible_zone_codes
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.i18n import error_text, lang_of
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

    def read(conn: Connection) -> list[dict[str, Any]]:
        zid = conn.execute(select(PatrolZone.id).where(PatrolZone.code == zone)).scalar()
        if zid is None:
            return []
        rows = conn.execute(select(Patrol).where(Patrol.patrol_zone_id == zid,
                                                 Patrol.started_at >= start,
                                                 Patrol.started_at < end)
                            .order_by(Patrol.started_at)).mappings()
        out = [{k: v for k, v in dict(r).items() if k != "route_wkb"} for r in rows]
        for p in out:
            for k in ("started_at", "ended_at"):
                if p.get(k) is not None:
                    p[k] = as_utc(p[k]).astimezone(CHINA)
        return out

    return ledger.read(read)


def _local(value: str, name: str) -> datetime:
    """A ``datetime-local`` value from the form, read as China time (UTC+8)."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name} '{value}' is not a date and time") from None
    return from_china(dt)


@router.post("/sheet/zero-report")
def zero_report(request: Request, zone: str = Form(...), personnel: str = Form(...),
                started_at: str = Form(...), ended_at: str = Form(""), location: str = Form(""),
                csrf_token: str | None = Form(None), user: User = Depends(page_user),
                s: Settings = Depends(settings)) -> Response:
    """Record that a team patrolled its zone and found nothing new."""
    check_csrf(request, csrf_token)
    if zone not in visible_zone_codes(s.ledger, user):
        raise HTTPException(404, "no such responsibility zone")
    if not user.may_verify:
        raise HTTPException(403, "analysts do not record patrols")
    start = _local(started_at, "start")
    end = _local(ended_at, "end") if ended_at.strip() else None
    back = f"/sheet?zone={quote(zone)}"
    if end is not None and end < start:
        return RedirectResponse(f"{back}&error={quote('end before start')}", status_code=303)
    try:
        s.ledger.write(lambda c: add_patrol(c, started_at=start, ended_at=end,
                                            personnel=personnel_text(personnel),
                                            by=user.name, zone_code=zone,
                                            location=location.strip() or None))
    except LedgerError as exc:
        return RedirectResponse(f"{back}&error={quote(error_text(exc, lang_of(request)))}", status_code=303)
    return RedirectResponse(f"{back}&saved=1", status_code=303)
