"""The lifecycle in the browser: dispatch, verification (with photo), stop notice, report,
filing, rectification and closure, each through the ledger facade (:meth:`Ledger.take_steps`),
so every step lands in the lifecycle's checks and the event record or not at all.

A refused form shows the lead page again with one sentence and the values typed. A phone that
syncs a verification recorded offline sends ``X-Sync: 1`` and a ``submission_key``: it gets JSON
back (200 recorded or already recorded, 409 when someone else took the step first).
"""
from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from pipeline.ledger import (
    FALSE_POSITIVE_REASONS,
    OUTCOMES,
    Photo,
    Step,
    TransitionError,
)
from pipeline.timeutil import china_today
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.forms import Problem, coord, day, from_ledger, names, when
from pipeline.web.i18n import lang_of, translator
from pipeline.web.pages import lead_view
from pipeline.web.photos import exif_of
from pipeline.web.uploads import check_image, read_limited
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
LATER_STEPS = ("stopped", "reported", "filed", "rectified", "closed")


def _saved(code: str) -> Response:
    from urllib.parse import quote

    return RedirectResponse(f"/leads/{quote(code)}?saved=1", status_code=303)


def _refused(request: Request, s: Settings, user: User, code: str, form: dict[str, Any],
             problem: Problem) -> Response:
    message = problem.sentence(translator(lang_of(request)), lang_of(request))
    if request.headers.get("x-sync") == "1":
        return JSONResponse({"ok": False, "error": message}, status_code=422)
    return lead_view(request, s, user, code, form=form, error=message, status_code=422)


def _conflict(request: Request, s: Settings, code: str) -> Response:
    """Someone else took the step first: show who and what, overwrite nothing."""
    t = translator(lang_of(request))
    last = next((e for e in reversed(s.ledger.history(code)) if e["action"] == "transition"), None)
    status = (last or {}).get("after", {}).get("status", "")
    message = t("taken_by_other").format(by=(last or {}).get("actor", "?"), status=t(status))
    return JSONResponse({"ok": False, "conflict": True, "error": message, "status": status},
                        status_code=409)


async def _form(request: Request) -> tuple[dict[str, Any], UploadFile | None]:
    data = await request.form()
    values: dict[str, Any] = {k: v for k, v in data.multi_items() if isinstance(v, str)}
    values["persons"] = [v for v in data.getlist("persons") if isinstance(v, str)]
    photo = data.get("photo")
    return values, photo if isinstance(photo, UploadFile) and photo.filename else None


def _lead(s: Settings, user: User, code: str, step: str) -> dict[str, Any]:
    from pipeline.web.access import lead_for

    lead = lead_for(s.ledger, user, code)
    if lead is None:
        raise HTTPException(404, "no such lead")
    if not user.may_take(step):
        raise HTTPException(403, f"a {user.role} does not take the step to {step}")
    return lead


def _take(request: Request, s: Settings, user: User, code: str, form: dict[str, Any],
          steps: list[Step], photos: list[Photo], saved: list[Path]) -> Response:
    sync = request.headers.get("x-sync") == "1"
    key = (form.get("submission_key") or "").strip()[:100] or None
    try:
        fresh = s.ledger.take_steps(code, steps, user.name, photos, today=china_today(), key=key)
    except TransitionError as exc:
        for path in saved:  # the step was refused: keep no photo the ledger doesn't know
            path.unlink(missing_ok=True)
        if sync and "cannot go from" in exc.problem:
            return _conflict(request, s, code)
        return _refused(request, s, user, code, form, from_ledger(exc))
    if sync:
        return JSONResponse({"ok": True, "duplicate": not fresh})
    return _saved(code)


@router.post("/leads/{code}/dispatch")
async def dispatch(code: str, request: Request, user: User = Depends(page_user),
                   s: Settings = Depends(settings)) -> Response:
    """Dispatch to persons of the lead's responsibility zone (a team is its members)."""
    form, _ = await _form(request)
    check_csrf(request, form.get("csrf_token"))
    lead = _lead(s, user, code, "dispatched")
    chosen = list(form["persons"]) or names(form.get("assignee", ""))
    zone = s.ledger.patrol_zones((lead["patrol_zone"],)) if lead.get("patrol_zone") else []
    allowed = set(zone[0]["persons"]) if zone else set()
    try:
        if not chosen:
            raise Problem("err_assignee")
        for name in chosen:
            if name not in allowed and name != user.name:
                raise Problem("err_not_person", name=name)
    except Problem as p:
        return _refused(request, s, user, code, form, p)
    return _take(request, s, user, code, form,
                 [Step("dispatched", {"assignee": ",".join(chosen)})], [], [])


async def _photo(s: Settings, code: str, upload: UploadFile | None) -> tuple[bytes | None, Path | None, bool]:
    """Check and save an uploaded photo by its content hash: (bytes, path, newly written)."""
    if upload is None:
        return None, None, False
    data = await read_limited(upload, s.max_upload_bytes)  # type: ignore[arg-type]
    if not data:
        return None, None, False
    suffix = check_image(data)
    path = s.uploads_dir / code / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    path.write_bytes(data)
    return data, path, fresh


def _verification(form: dict[str, Any], user: User) -> tuple[list[Step], str]:
    outcome = (form.get("outcome") or "").strip()
    if outcome not in OUTCOMES:
        raise Problem("err_outcome")
    people = names(form.get("personnel", ""))
    if len(people) < 2:
        raise Problem("err_personnel")
    reason = (form.get("reason") or "").strip() or None
    if outcome == "false_positive" and reason not in FALSE_POSITIVE_REASONS:
        raise Problem("err_reason")
    if outcome != "false_positive" and reason:
        raise Problem("err_reason_only_fp")
    fields: dict[str, Any] = {"outcome": outcome, "personnel": ",".join(people)}
    if reason:
        fields["reason"] = reason
    steps = [Step("verified", fields, (form.get("notes") or "").strip() or None)]
    measure, notice = (form.get("stop_measure") or "").strip(), (form.get("notice_no") or "").strip()
    if outcome == "illegal" and measure and notice and user.may_take("stopped"):
        steps.append(Step("stopped", {"stop_measure": measure, "notice_no": notice}))
    return steps, outcome


@router.post("/leads/{code}/verify")
async def verify(code: str, request: Request, user: User = Depends(page_user),
                 s: Settings = Depends(settings)) -> Response:
    """Verified (and, for an illegal lead with a measure and notice number, stopped) plus the
    photo as an attachment, all in one write transaction. Time and position come from the
    form, else from the photo's EXIF."""
    form, upload = await _form(request)
    check_csrf(request, form.get("csrf_token"))
    _lead(s, user, code, "verified")
    try:
        steps, _ = _verification(form, user)
        taken, lon, lat = when(form.get("taken_at")), coord(form.get("lon"), -180, 180), coord(form.get("lat"), -90, 90)
    except Problem as p:
        return _refused(request, s, user, code, form, p)
    data, path, fresh = await _photo(s, code, upload)
    photos: list[Photo] = []
    if path is not None and data is not None:
        exif = exif_of(data)
        shot = taken or exif.get("taken_at")
        photos.append(Photo(path, None if shot is None else shot.astimezone(UTC),
                            lon if lon is not None else exif.get("lon"),
                            lat if lat is not None else exif.get("lat"), bearing=exif.get("direction")))
    return _take(request, s, user, code, form, steps, photos, [path] if fresh and path else [])


def _later(to: str, form: dict[str, Any]) -> Step:
    fields: dict[str, Any] = {}
    on = day(form.get("on"))
    if on is not None:
        if on > china_today():
            raise Problem("err_future")
        fields["on"] = on
    if to == "stopped":
        measure, notice = (form.get("stop_measure") or "").strip(), (form.get("notice_no") or "").strip()
        if not measure or not notice:
            raise Problem("err_stop")
        fields.update(stop_measure=measure, notice_no=notice)
    elif to == "reported":
        if (form.get("report_no") or "").strip():
            fields["report_no"] = form["report_no"].strip()
        fields["major"] = form.get("major") == "1"
    elif to == "filed":
        if not (form.get("case_no") or "").strip():
            raise Problem("err_case_no")
        fields["case_no"] = form["case_no"].strip()
    return Step(to, fields, (form.get("notes") or "").strip() or None)


@router.post("/leads/{code}/step/{to}")
async def later_step(code: str, to: str, request: Request, user: User = Depends(page_user),
                     s: Settings = Depends(settings)) -> Response:
    """Stop notice, report, filing, rectification or closure of a verified lead."""
    if to not in LATER_STEPS:
        raise HTTPException(404, "no such step")
    form, _ = await _form(request)
    check_csrf(request, form.get("csrf_token"))
    _lead(s, user, code, to)
    form["step"] = to
    try:
        step = _later(to, form)
    except Problem as p:
        return _refused(request, s, user, code, form, p)
    return _take(request, s, user, code, form, [step], [], [])
