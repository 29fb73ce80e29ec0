"""Accounts in the app: supervisors and analysts list users with their responsibility zones,
reset passwords and disable (or enable again) accounts. Analysts manage every other account,
a supervisor the patrol members of their own zones; each change is an event of the ledger."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from pipeline.errors import InputError, LedgerError
from pipeline.web.deps import Settings, check_csrf, page_user, settings
from pipeline.web.i18n import error_text, lang_of, translator
from pipeline.web.pages import render
from pipeline.web.users import MIN_PASSWORD_CHARS, User, may_manage

router = APIRouter(include_in_schema=False)


def _visible(s: Settings, user: User) -> list[dict[str, Any]]:
    rows = s.ledger.users()
    if user.role != "analyst":
        rows = [r for r in rows if set(r["zones"]) & set(user.zones) or r["name"] == user.name]
    return [r | {"manageable": may_manage(user, r)} for r in rows]


def accounts_view(request: Request, s: Settings, user: User, *, error: str | None = None,
                  status_code: int = 200) -> Response:
    if not user.manages_accounts:
        raise HTTPException(403, "accounts are managed by supervisors and analysts")
    codes = None if user.sees_all else user.zones
    return render(request, "accounts.html", {
        "user": user, "accounts": _visible(s, user), "error": error,
        "zones": s.ledger.patrol_zones(codes) if codes is None or codes else [],
        "min_chars": MIN_PASSWORD_CHARS, "done": request.query_params.get("done")},
        status_code=status_code)


@router.get("/accounts")
def accounts(request: Request, user: User = Depends(page_user), s: Settings = Depends(settings)) -> Response:
    return accounts_view(request, s, user)


def _target(s: Settings, user: User, name: str) -> dict[str, Any]:
    if not user.manages_accounts:
        raise HTTPException(403, "accounts are managed by supervisors and analysts")
    found = next((r for r in _visible(s, user) if r["name"] == name), None)
    if found is None:
        raise HTTPException(404, "no such account")
    if not found["manageable"]:
        raise HTTPException(403, "not an account you manage")
    return found


@router.post("/accounts/{name}/password")
def reset_password(name: str, request: Request, password: str = Form(""),
                   csrf_token: str | None = Form(None), user: User = Depends(page_user),
                   s: Settings = Depends(settings)) -> Response:
    check_csrf(request, csrf_token)
    _target(s, user, name)
    t = translator(lang_of(request))
    if len(password) < MIN_PASSWORD_CHARS:
        return accounts_view(request, s, user, status_code=422,
                             error=t("err_password").format(n=MIN_PASSWORD_CHARS))
    try:
        s.ledger.set_password(name, password, by=user.name)
    except (InputError, LedgerError) as exc:
        return accounts_view(request, s, user, status_code=422,
                             error=error_text(exc, lang_of(request)))
    return RedirectResponse(f"/accounts?done={quote(name)}", status_code=303)


@router.post("/accounts/{name}/active")
def set_account_active(name: str, request: Request, active: str = Form(...),
                       csrf_token: str | None = Form(None), user: User = Depends(page_user),
                       s: Settings = Depends(settings)) -> Response:
    check_csrf(request, csrf_token)
    _target(s, user, name)
    s.ledger.set_active(name, active == "1", by=user.name)
    return RedirectResponse(f"/accounts?done={quote(name)}", status_code=303)
