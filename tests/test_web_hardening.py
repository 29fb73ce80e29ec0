"""The web app under attack: password guessing, oversized and anonymous uploads, framing and
script injection, cookies over HTTPS, sessions after sign-out, header and file injection."""
from __future__ import annotations

import asyncio
import io
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from pipeline import timeutil  # noqa: E402
from pipeline.ledger import Ledger  # noqa: E402
from pipeline.web import auth  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.testing import PASSWORD, seed  # noqa: E402

SECRET = "s" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def world(tmp_path: Path) -> dict:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    codes = seed(url)
    return {"url": url, "codes": codes, "app": create_app(url, secret=SECRET, max_upload_bytes=4096)}


def login(app: object, name: str, password: str = PASSWORD, **kw: object):
    client = TestClient(app, **kw)
    client.get("/login")
    r = client.post("/login", data={"username": name, "password": password,
                                    "csrf_token": client.cookies.get(auth.CSRF_COOKIE)},
                    follow_redirects=False)
    return client, r


# -- throttling ----------------------------------------------------------------------------

def test_wrong_passwords_lock_the_account(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [datetime(2026, 12, 1, 10, 0, tzinfo=UTC)]
    monkeypatch.setattr(timeutil, "clock", lambda: now[0])
    app = world["app"]
    answers = [login(app, "pat", "wrong-password")[1].status_code for _ in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
    _, right = login(app, "pat")
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 60  # even the right one
    assert login(app, "bea")[1].status_code == 303                            # others unaffected
    api = TestClient(app)
    r = api.post("/api/token", data={"username": "pat", "password": PASSWORD})
    assert r.status_code == 429
    now[0] += timedelta(minutes=16)
    assert login(app, "pat")[1].status_code == 303                            # the lockout ends


def test_token_endpoint_is_throttled_too(world: dict) -> None:
    api = TestClient(world["app"])
    codes = [api.post("/api/token", data={"username": "ana", "password": f"guess-{i}"}).status_code
             for i in range(50)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}


# -- uploads -------------------------------------------------------------------------------

def _asgi(app: object, method: str, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, int]:
    """Call the app directly; returns (status, how many body chunks it pulled)."""
    pulled = [0]
    status = [0]

    async def receive() -> dict:
        i = pulled[0]
        pulled[0] += 1
        if i < len(chunks):
            return {"type": "http.request", "body": chunks[i], "more_body": i < len(chunks) - 1}
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return status[0], pulled[0]


def test_oversized_and_anonymous_uploads_are_refused_before_reading(world: dict) -> None:
    app, code = world["app"], world["codes"]["ZA"][0]
    multipart = {"content-type": "multipart/form-data; boundary=x"}
    huge = {**multipart, "content-length": str(1 << 30)}
    assert _asgi(app, "POST", f"/leads/{code}/verify", huge, [b"x" * 1024] * 4) == (413, 0)
    small = {**multipart, "content-length": "1000"}
    assert _asgi(app, "POST", f"/leads/{code}/verify", small, [b"x" * 1000]) == (401, 0)
    # no length given: counted while streaming, cut once past the cap
    status, pulled = _asgi(app, "POST", "/login", {"content-type": "application/x-www-form-urlencoded"},
                           [b"a" * 16384] * 1000)
    assert status == 413 and pulled < 10


def test_signed_in_upload_still_capped(world: dict) -> None:
    app, code = world["app"], world["codes"]["ZA"][0]
    with Ledger.open(world["url"]) as led:
        led.transition(code, "dispatched", "sue", {"assignee": "pat"})
    pat, _ = login(app, "pat")
    form = {"outcome": "legal", "personnel": "pat, pat2", "csrf_token": pat.cookies.get(auth.CSRF_COOKIE)}
    big = {"photo": ("p.png", io.BytesIO(PNG + b"\x00" * 200_000), "image/png")}
    assert pat.post(f"/leads/{code}/verify", data=form, files=big).status_code == 413
    ok = {"photo": ("p.png", io.BytesIO(PNG), "image/png")}
    assert pat.post(f"/leads/{code}/verify", data=form, files=ok, follow_redirects=False).status_code == 303


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_answers_anonymous_gigabyte_upload_at_once(world: dict) -> None:
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(world["app"], host="127.0.0.1", port=port, log_level="error",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        code = world["codes"]["ZA"][0]
        for length, answer in ((1 << 30, "413"), (4000, "401")):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall((f"POST /leads/{code}/verify HTTP/1.1\r\nHost: x\r\n"
                              "Content-Type: multipart/form-data; boundary=b\r\n"
                              f"Content-Length: {length}\r\n\r\n").encode() + b"--b\r\n")
                reply = sock.recv(4096).decode("latin-1")  # answered with the body still unsent
            assert reply.startswith(f"HTTP/1.1 {answer}"), reply
            assert "content-security-policy" in reply.lower()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- headers, cookies, sessions ------------------------------------------------------------

def test_security_headers_and_no_inline_script(world: dict) -> None:
    app, code = world["app"], world["codes"]["ZA"][0]
    pat, _ = login(app, "pat")
    for path in ("/login", "/", f"/leads/{code}", "/sheet", "/api/leads"):
        r = pat.get(path)
        assert r.status_code == 200, path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        if "html" in r.headers["content-type"]:
            for tag in re.findall(r"<script[^>]*>", r.text):
                assert "src=" in tag or "application/json" in tag, (path, tag)
            assert not re.search(r"\son[a-z]+=", r.text), path
            assert " style=" not in r.text, path


def test_secure_cookie_behind_https(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    def session_cookie(app: object, **kw: object) -> str:
        _, r = login(app, "pat", **kw)
        assert r.status_code == 303
        return r.headers["set-cookie"].lower()

    plain = world["app"]
    assert "secure" not in session_cookie(plain)
    assert "secure" in session_cookie(plain, base_url="https://testserver")
    forged = {"x-forwarded-proto": "https"}
    assert "secure" not in session_cookie(plain, headers=forged)  # not trusted unless configured
    assert "secure" not in TestClient(plain, headers=forged).get("/login").headers["set-cookie"].lower()

    # configured: the CSRF cookie of the login page is Secure already (a browser behind the
    # proxy talks HTTPS; this plain-HTTP test client would not even send it back)
    monkeypatch.setenv("LANDPATROL_WEB_TRUST_PROXY", "1")
    trusted = create_app(world["url"], secret=SECRET)
    assert "secure" in TestClient(trusted, headers=forged).get("/login").headers["set-cookie"].lower()
    assert "secure" not in TestClient(trusted).get("/login").headers["set-cookie"].lower()
    monkeypatch.delenv("LANDPATROL_WEB_TRUST_PROXY")
    monkeypatch.setenv("LANDPATROL_WEB_SECURE_COOKIES", "1")
    always = create_app(world["url"], secret=SECRET)
    assert "secure" in TestClient(always).get("/login").headers["set-cookie"].lower()


def test_sessions_and_tokens_end_at_sign_out(world: dict) -> None:
    app = world["app"]
    pat, _ = login(app, "pat")
    stolen = pat.cookies.get(auth.SESSION_COOKIE)
    token = TestClient(app).post("/api/token", data={"username": "pat", "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert TestClient(app).get("/api/me", headers=bearer).status_code == 200
    out = pat.post("/logout", data={"csrf_token": pat.cookies.get(auth.CSRF_COOKIE)}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(app, cookies={auth.SESSION_COOKIE: stolen})
    assert replay.get("/sheet", follow_redirects=False).status_code == 303  # back to the login
    assert TestClient(app).get("/api/me", headers=bearer).status_code == 401
    again, r = login(app, "pat")
    assert r.status_code == 303 and again.get("/sheet").status_code == 200


# -- downloads -----------------------------------------------------------------------------

def test_codes_with_cr_lf_cannot_break_gpx_or_kml(world: dict) -> None:
    app, url, code = world["app"], world["url"], world["codes"]["ZA"][0]
    evil_zone = "ZA\r\nSet-Cookie: owned=1"
    with Ledger.open(url) as led:
        geom = led.get_lead(code)["geometry"].buffer(0.01)
        led.add_patrol_zone(code=evil_zone, geometry=geom, level=1, persons="pat", by="test")
        led.add_user(name="eve", role="patrol", zones=[evil_zone], password=PASSWORD, by="test")
        led.write(lambda c: c.execute(text(
            "UPDATE leads SET code = :n, patrol_zone_id = (SELECT id FROM patrol_zones WHERE code = :z), "
            "status = 'dispatched', assignee = 'eve' "  # a patrol's route holds its dispatched targets
            "WHERE code = :c"), {"n": code + "\r\n<x>&", "c": code, "z": evil_zone}))
    eve, r = login(app, "eve")
    assert r.status_code == 303
    for fmt in ("gpx", "kml"):
        got = eve.get(f"/sheet.{fmt}", params={"zone": evil_zone})
        assert got.status_code == 200
        disposition = got.headers["content-disposition"]
        assert "\r" not in disposition and "\n" not in disposition and "set-cookie" not in got.headers
        assert re.search(r'filename="[A-Za-z0-9._-]+\.' + fmt + '"', disposition)
        root = ET.fromstring(got.content)  # still well-formed
        names = [e.text or "" for e in root.iter() if e.tag.endswith("name")]
        assert any("<x>&" in n for n in names)
        assert all("\r" not in n and "\n" not in n for n in names)
