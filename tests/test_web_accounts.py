"""Accounts in the app: who lists whom, password resets, disabled accounts, events."""
from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from pipeline.ledger import Ledger  # noqa: E402
from pipeline.ledger.schema import Event  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402


def login(app: object, name: str, password: str = PASSWORD) -> TestClient:
    c = TestClient(app)
    c.get("/login")
    c.post("/login", data={"username": name, "password": password,
                           "csrf_token": c.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    return c


def post(c: TestClient, path: str, **data: str) -> object:
    return c.post(path, data={**data, "csrf_token": c.cookies.get(auth.CSRF_COOKIE)},
                  follow_redirects=False)


def test_accounts_are_managed_in_the_app(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    seed(url)
    app = create_app(url, secret="a" * 32)
    ana, sue, pat = login(app, "ana"), login(app, "sue"), login(app, "pat")
    listed = ana.get("/accounts").text
    assert all(f'data-name="{n}"' in listed for n in ("ana", "sue", "pat", "bea"))
    theirs = sue.get("/accounts").text
    assert 'data-name="pat"' in theirs and 'data-name="bea"' not in theirs and "ZA" in theirs
    assert pat.get("/accounts").status_code == 403
    assert post(sue, "/accounts/bea/password", password="x" * 12).status_code == 404  # not theirs
    assert post(sue, "/accounts/ana/active", active="0").status_code == 404
    short = post(sue, "/accounts/pat/password", password="short")
    assert short.status_code == 422 and "密码至少需要 8 个字符。" in short.text
    assert post(sue, "/accounts/pat/password", password="a new long secret").status_code == 303
    assert login(app, "pat").get("/sheet", follow_redirects=False).status_code == 303  # old password gone
    fresh = login(app, "pat", "a new long secret")
    assert fresh.get("/sheet").status_code == 200
    assert post(sue, "/accounts/pat/active", active="0").status_code == 303
    assert fresh.get("/sheet", follow_redirects=False).status_code == 303  # disabled: signed out at once
    assert 'data-name="pat" data-active="0"' in sue.get("/accounts").text
    assert post(sue, "/accounts/pat/active", active="1").status_code == 303
    assert login(app, "pat", "a new long secret").get("/sheet").status_code == 200
    with Ledger.open(url) as led:
        rows = led.read(lambda c: c.execute(select(Event.action, Event.actor, Event.after)
                                            .where(Event.entity == "web_user")).all())
        assert led.verify().ok
    actions = [(r.action, r.actor) for r in rows if r.action != "user_added"]
    assert actions == [("password_reset", "sue"), ("user_disabled", "sue"), ("user_enabled", "sue")]
    assert all("password" not in r.after or "hash" not in r.after for r in rows)
