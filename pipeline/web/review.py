"""Web pages of the satellite inspection: the batch page (patches with status, found-before
share, days ahead, overdue; filters), the 举证 form on a lead's page, the dossier download.

Zone rules as for leads (:mod:`pipeline.web.access`): analysts see every patch, supervisors
and patrol members the patches whose lead lies in one of their responsibility zones; any other
patch is a 404. Every write goes through the ledger (checked 举证, one event).
"""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InputError
from pipeline.review.checklist import CONSTRUCTION, JUDGMENTS, RECTIFICATIONS, VIOLATION_TYPES
from pipeline.web.access import lead_for, zone_filter
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.pages import render, templates
from pipeline.web.users import User

router = APIRouter(include_in_schema=False)
FORM_FIELDS = ("judgment", "violation_type", "land_use", "project", "party", "construction", "area_mu",
               "farmland_mu", "basic_farmland_mu", "illegal_mu", "approval_no", "approval_on",
               "facility_record_no", "basis", "rectification", "rectified_mu", "rectified_on")


def visible_patches(s: Settings, user: User, batch: str) -> list[dict[str, Any]]:
    frame = s.ledger.batch_patches(batch)
    rows = frame.drop(columns="geometry").to_dict("records")
    mine = zone_filter(s.ledger, user)
    return [r for r in rows if mine(_zone(r["patrol_zone_id"]))]


def _zone(value: Any) -> int | None:
    return None if value is None or value != value else int(value)


def inspection_for(request: Request, code: str) -> list[dict[str, Any]]:
    """The issued patches of lead ``code`` (for the 举证 form on its page)."""
    return request.app.state.settings.ledger.lead_patches(code)


templates.env.globals.update(inspection_for=inspection_for, judgments=list(JUDGMENTS),
                             violation_types=VIOLATION_TYPES, rectifications=RECTIFICATIONS,
                             constructions=CONSTRUCTION)


@router.get("/review")
def batches_page(request: Request, user: User = Depends(page_user),
                 s: Settings = Depends(settings)) -> Response:
    return render(request, "review_batches.html", {"user": user, "batches": s.ledger.batches()})


@router.get("/review/{batch}")
def batch_page(batch: str, request: Request, status: str | None = None, found: str | None = None,
               overdue: str | None = None, user: User = Depends(page_user),
               s: Settings = Depends(settings)) -> Response:
    info = s.ledger.batch(batch)
    if info is None:
        raise HTTPException(404, "no such batch")
    patches = visible_patches(s, user, batch)
    late: dict[str, list[str]] = {}
    for r in s.ledger.batch_overdue(batch, date.today()):
        late.setdefault(r["patch_no"], []).append(r["deadline"])
    found_n = sum(bool(p["found_by_landpatrol"]) for p in patches)
    shown = [p | {"late": late.get(p["patch_no"], [])} for p in patches
             if (not status or p["status"] == status)
             and (found not in ("yes", "no") or bool(p["found_by_landpatrol"]) == (found == "yes"))
             and (overdue != "yes" or p["patch_no"] in late)]
    return render(request, "review_batch.html", {
        "user": user, "batch": info, "patches": shown, "total": len(patches), "found": found_n,
        "share": found_n / len(patches) if patches else None,
        "statuses": sorted({p["status"] for p in patches}),
        "filters": {"status": status or "", "found": found or "", "overdue": overdue or ""}})


@router.post("/review/leads/{code}/evidence")
async def evidence_post(code: str, request: Request, user: User = Depends(page_user),
                        s: Settings = Depends(settings)) -> Response:
    """The 举证 form: checked against the judgment's checklist; refused with what is missing."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or "") or None)
    if lead_for(s.ledger, user, code) is None or not user.may_verify:
        raise HTTPException(404, "no such lead")
    fields = {k: str(form.get(k) or "").strip() for k in FORM_FIELDS if str(form.get(k) or "").strip()}
    if form.get("patch"):
        fields["patch"] = str(form.get("patch"))
    parts = str(form.get("parts") or "").strip()
    if parts:
        fields["parts"] = parts
    try:
        s.ledger.record_evidence(code, user.name, fields)
    except InputError as exc:
        return RedirectResponse(f"/leads/{quote(code)}?error={quote(exc.problem)}#evidence", status_code=303)
    return RedirectResponse(f"/leads/{quote(code)}?saved=1#evidence", status_code=303)


@router.get("/review/patches/{patch_no}/dossier.pdf")
def dossier(patch_no: str, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    import tempfile
    from pathlib import Path

    from pipeline.reporting.pdf import pdf_bytes, render_html
    from pipeline.review.dossier import dossier_context, find_patch

    try:
        batch, no = find_patch(s.ledger, patch_no)
    except InputError:
        raise HTTPException(404, "no such patch") from None
    if not any(p["patch_no"] == no for p in visible_patches(s, user, batch)):
        raise HTTPException(404, "no such patch")
    with tempfile.TemporaryDirectory(prefix="dossier-") as tmp:
        ctx = dossier_context(s.ledger, batch, no, Path(tmp) / "map.png", s.runs_dir)
        data = pdf_bytes(render_html("dossier.html", ctx))
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{quote(no)}.pdf"'})
