"""Tampering behind the ledger's back is caught: the chain head, keyed chain, anchors, replay."""
from __future__ import annotations

import json
import stat
import sys
from datetime import date

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from pipeline.ledger import ChainHead, Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.codes import canonical_json
from pipeline.ledger.events import GENESIS, event_hash
from pipeline.ledger.keys import LedgerKey, find_key, ledger_key
from pipeline.ledger.testing import leads_gdf, run_record, square

TODAY = date(2024, 6, 20)


@pytest.fixture
def ledger(ledger_url: str):
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        yield led


def one_lead(led: Ledger, n: int = 0, where: tuple[float, float] = (0, 0)) -> str:
    return led.record_run(run_record(n=n, after=date(2024, 6, 1)), leads_gdf([square(*where, 50.0)]),
                          None).created[0]


def test_chain_head_is_the_last_event(ledger: Ledger) -> None:
    assert ledger.chain_head() == ChainHead(0, GENESIS, 0)
    code = one_lead(ledger)
    ledger.transition(code, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    head = ledger.chain_head()
    last = ledger.read(lambda c: c.execute(text("SELECT id, hash FROM events ORDER BY id DESC")).first())
    n = ledger.read(lambda c: c.execute(text("SELECT COUNT(*) FROM events")).scalar())
    assert head == ChainHead(last[0], last[1], n) and n >= 2
    assert str(head.event_id) in str(head) and head.hash in str(head)
    with pytest.raises(AttributeError):
        head.hash = "x"  # type: ignore[misc]


# -- helpers: a database user's tools (plain SQL, the public hash function, no key) ------------

def busy_ledger(led: Ledger) -> list[str]:
    """Two leads with some history: one verified illegal and stopped, one dispatched."""
    a, b = one_lead(led, 0, (0, 0)), one_lead(led, 1, (500, 500))
    led.transition(a, "dispatched", "chen", {"assignee": "wang"}, today=TODAY)
    led.transition(a, "verified", "chen", {"outcome": "illegal", "personnel": "a,b", "on": "2024-06-06"},
                   today=TODAY)
    led.transition(a, "stopped", "chen", {"stop_measure": "halt", "notice_no": "N-1"}, today=TODAY)
    led.transition(b, "dispatched", "chen", {"assignee": "li"}, today=TODAY)
    assert led.verify().ok
    return [a, b]


def sql(led: Ledger, statement: str, **params: object) -> None:
    led.write(lambda c: c.execute(text(statement), params))


def events(led: Ledger) -> list[dict]:
    return led.read(lambda c: [dict(r) for r in c.execute(text("SELECT * FROM events ORDER BY id")).mappings()])


def rehash_from(led: Ledger, first_id: int, key: LedgerKey | None = None) -> None:
    """Recompute every hash from ``first_id`` on, the way a tamperer would (no ledger key)."""
    rows = events(led)
    prev = GENESIS
    for row in rows:
        if row["id"] >= first_id:
            h = event_hash(prev, row["entity"], row["entity_id"], row["lead_code"], row["action"],
                           row["actor"], row["at"], row["before"], row["after"], row["note"], key)
            sql(led, "UPDATE events SET prev_hash = :p, hash = :h, scheme = :s WHERE id = :i",
                p=prev, h=h, s=key.scheme if key else None, i=row["id"])
            row["hash"] = h
        prev = row["hash"]


def forge(led: Ledger, *, action: str, lead_code: str | None, after: dict, key: LedgerKey | None = None,
          scheme: str | None = None) -> None:
    """Append an event computed like the ledger would, but without its key."""
    last = events(led)[-1]
    at = "2024-06-21T10:00:00.000000+00:00"
    after_t = canonical_json(after)
    h = event_hash(last["hash"], "lead", 1, lead_code, action, "mallory", at, "{}", after_t, None, key)
    sql(led, "INSERT INTO events (entity, entity_id, lead_code, action, actor, at, before, after, note, "
             "prev_hash, hash, scheme) VALUES ('lead', 1, :c, :a, 'mallory', :at, '{}', :af, NULL, :p, :h, :s)",
        c=lead_code, a=action, at=at, af=after_t, p=last["hash"], h=h,
        s=scheme if scheme is not None else (key.scheme if key else None))


# -- the chain ---------------------------------------------------------------------------------

def test_new_events_are_keyed_with_the_ledger_key(ledger: Ledger) -> None:
    busy_ledger(ledger)
    key = find_key()
    assert key is not None
    assert {e["scheme"] for e in events(ledger)} == {key.scheme}


def test_appended_forged_event_is_caught(ledger: Ledger) -> None:
    a, _ = busy_ledger(ledger)
    forge(ledger, action="transition", lead_code=a, after={"status": "reported"})
    bad = ledger.verify()
    assert not bad.ok and bad.broken_id == events(ledger)[-1]["id"] and "not keyed" in bad.problem


def test_forged_event_claiming_the_key_is_caught(ledger: Ledger) -> None:
    a, _ = busy_ledger(ledger)
    guess = LedgerKey(b"x" * 64, "guess")
    key = find_key()
    assert key is not None
    forge(ledger, action="transition", lead_code=a, after={"status": "reported"}, key=guess,
          scheme=key.scheme)
    bad = ledger.verify()
    assert not bad.ok and "edited" in bad.problem
    sql(ledger, "UPDATE events SET scheme = :s WHERE id = :i", s=guess.scheme, i=events(ledger)[-1]["id"])
    assert "another key" in ledger.verify().problem


def test_edit_then_rehash_of_the_rest_is_caught(ledger: Ledger) -> None:
    busy_ledger(ledger)
    rows = events(ledger)
    third = rows[2]["id"]
    sql(ledger, "UPDATE events SET actor = 'mallory' WHERE id = :i", i=third)
    rehash_from(ledger, third)  # plain sha256, the only scheme a tamperer can compute
    bad = ledger.verify()
    assert not bad.ok and bad.broken_id == third and "not keyed" in bad.problem
    rehash_from(ledger, third, LedgerKey(b"y" * 64, "guess"))
    assert not ledger.verify().ok


def test_deleting_the_last_events_is_caught(ledger: Ledger, tmp_path) -> None:
    _, b = busy_ledger(ledger)
    anchor = ledger.anchor()
    assert ledger.verify(anchor=anchor).ok
    last = events(ledger)[-1]
    assert last["lead_code"] == b and last["action"] == "transition"
    sql(ledger, "DELETE FROM events WHERE id = :i", i=last["id"])
    bad = ledger.verify()  # the chain is a valid shorter chain, but lead b's row says dispatched
    assert not bad.ok and bad.lead_code == b and "its events say null" in bad.lead_problem
    assert "cut off" in ledger.verify(anchor=anchor).anchor_problem


def test_cut_off_events_that_no_lead_shows_are_caught_by_the_anchor(ledger: Ledger) -> None:
    busy_ledger(ledger)
    ledger.add_patrol_zone(code="JN-01", geometry=square(-10, -10, 400.0).buffer(0), level=1,
                           persons="wang,zhao", by="admin")
    anchor = ledger.anchor()
    sql(ledger, "DELETE FROM events WHERE id = :i", i=anchor["event_id"])
    assert ledger.verify().ok  # nothing in the ledger itself can tell
    report = ledger.verify(anchor=anchor)
    assert not report.ok and "missing" in report.anchor_problem


def test_deleting_all_events_is_caught(ledger: Ledger) -> None:
    busy_ledger(ledger)
    anchor = ledger.anchor()
    sql(ledger, "DELETE FROM events")
    bad = ledger.verify()
    assert not bad.ok and bad.events == 0 and "no event created it" in bad.lead_problem
    assert "first event" in ledger.verify(anchor=anchor).anchor_problem


def test_rewritten_chain_before_the_anchor_is_caught(ledger: Ledger) -> None:
    busy_ledger(ledger)
    anchor = ledger.anchor()
    rows = events(ledger)
    sql(ledger, "UPDATE events SET actor = 'mallory' WHERE id = :i", i=rows[1]["id"])
    key = find_key()
    rehash_from(ledger, rows[1]["id"], key)  # even someone holding the key...
    assert ledger.verify().ok
    assert "rewritten" in ledger.verify(anchor=anchor).anchor_problem  # ...is caught by the anchor


def test_altered_anchor_is_refused(ledger: Ledger) -> None:
    busy_ledger(ledger)
    anchor = ledger.anchor()
    assert anchor["mac"] and anchor["events"] == len(events(ledger))
    anchor["events"] -= 1
    assert "altered" in ledger.verify(anchor=anchor).anchor_problem


# -- the leads table ---------------------------------------------------------------------------

@pytest.mark.parametrize("statement, needle", [
    ("UPDATE leads SET status = 'closed' WHERE code = :a", "status"),
    ("UPDATE leads SET outcome = 'legal' WHERE code = :a", "outcome"),
    ("UPDATE leads SET assignee = 'mallory' WHERE code = :a", "assignee"),
    ("UPDATE leads SET notice_no = 'N-2' WHERE code = :a", "notice_no"),
    ("UPDATE leads SET report_due = NULL WHERE code = :a", "report_due"),
    ("UPDATE leads SET area_m2 = 1.0 WHERE code = :a", "area_m2"),
    ("UPDATE leads SET geom_wkb = (SELECT geom_wkb FROM leads WHERE code = :b) WHERE code = :a",
     "geometry"),
    (("DELETE FROM lead_observations WHERE lead_id = (SELECT id FROM leads WHERE code = :a); "
      "DELETE FROM verifications WHERE lead_id = (SELECT id FROM leads WHERE code = :a); "
      "DELETE FROM stop_notices WHERE lead_id = (SELECT id FROM leads WHERE code = :a); "
      "DELETE FROM leads WHERE code = :a"), "deleted"),
])
def test_direct_changes_to_leads_are_caught(ledger: Ledger, statement: str, needle: str) -> None:
    a, b = busy_ledger(ledger)
    for part in statement.split("; "):
        params = {k: v for k, v in (("a", a), ("b", b)) if f":{k}" in part}
        sql(ledger, part, **params)
    bad = ledger.verify()
    assert not bad.ok and bad.lead_code == a and needle in bad.lead_problem
    assert bad.broken_id is None  # the chain itself is intact: only the replay sees it


def test_inserted_lead_is_caught(ledger: Ledger) -> None:
    a, _ = busy_ledger(ledger)
    cols = [c for c in ledger.read(lambda c: list(c.execute(text("SELECT * FROM leads")).keys()))
            if c != "id"]
    copied = ", ".join("'X-2024-0001'" if c == "code" else c for c in cols)
    sql(ledger, f"INSERT INTO leads ({', '.join(cols)}) SELECT {copied} FROM leads WHERE code = :a", a=a)
    bad = ledger.verify()
    assert bad.lead_code == "X-2024-0001" and "inserted" in bad.lead_problem


def test_leads_seen_again_and_merged_reports_replay(ledger: Ledger) -> None:
    code = one_lead(ledger)
    bigger = leads_gdf([square(0, 0, 80.0)], change_class="road")
    assert ledger.record_run(run_record(n=5, after=date(2024, 7, 1)), bigger, None).updated == [code]
    lead = ledger.get_lead(code)
    spot = Point(lead["centroid_lon"], lead["centroid_lat"])
    assert ledger.report_lead(region="nanjing", source="hotline", geometry=spot, by="op",
                              reported_on=date(2024, 7, 5)).merged
    report = ledger.verify()
    assert report.ok and report.leads == 1, report.describe()
    sql(ledger, "UPDATE leads SET change_class = 'construction'")
    assert "change_class" in ledger.verify().lead_problem


# -- older ledgers: plain sha256 events keep verifying -----------------------------------------

def test_plain_sha256_chain_keeps_verifying_and_continues_keyed(ledger: Ledger) -> None:
    _, b = busy_ledger(ledger)
    rehash_from(ledger, events(ledger)[0]["id"])  # as written before revision 0005
    assert {e["scheme"] for e in events(ledger)} == {None}
    assert ledger.verify().ok
    ledger.transition(b, "verified", "chen", {"outcome": "legal", "personnel": "a,b"}, today=TODAY)
    schemes = [e["scheme"] for e in events(ledger)]
    assert schemes[-1] is not None and set(schemes[:-1]) == {None}
    assert ledger.verify().ok
    forge(ledger, action="transition", lead_code=b, after={"status": "closed"})
    assert "not keyed" in ledger.verify().problem


# -- the key and the command line ------------------------------------------------------------

def test_key_file_created_on_first_use(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LANDPATROL_LEDGER_KEY", raising=False)
    monkeypatch.setenv("LANDPATROL_LEDGER_KEY_FILE", str(tmp_path / "cfg" / "ledger.key"))
    assert find_key() is None
    key = ledger_key()
    path = tmp_path / "cfg" / "ledger.key"
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ledger_key() == key and len(key.secret) == 64
    monkeypatch.setenv("LANDPATROL_LEDGER_KEY", "a" * 40)
    assert find_key() != key


def test_cli_anchor_and_verify(ledger_url: str, tmp_path, monkeypatch, capsys) -> None:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["landpatrol", *args, "--ledger", ledger_url])
        rc = run_app(app)
        out = capsys.readouterr()
        return rc, out.out, out.err

    with Ledger.open(ledger_url) as led:
        busy_ledger(led)
    anchor = tmp_path / "head.json"
    rc, out, err = run("ledger", "anchor", "--output", str(anchor))
    assert rc == 0, err
    record = json.loads(anchor.read_text())
    assert record["events"] == 8 and f"event {record['event_id']}" in out
    rc, out, err = run("ledger", "verify", "--anchor", str(anchor))
    assert rc == 0 and "nothing cut or rewritten" in out, err
    with Ledger.open(ledger_url) as led:
        sql(led, "DELETE FROM events WHERE id = :i", i=record["event_id"])
    rc, out, err = run("ledger", "verify", "--anchor", str(anchor))
    assert rc == 3 and "missing" in err and err.count("\n") == 1
    rc, out, err = run("ledger", "verify")
    assert rc == 3 and "its events say" in err
    (tmp_path / "junk.json").write_text("{}")
    rc, out, err = run("ledger", "verify", "--anchor", str(tmp_path / "junk.json"))
    assert rc == 2 and "junk.json" in err and "not a landpatrol ledger anchor" in err
