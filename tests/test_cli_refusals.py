"""A newcomer's mistakes get one line, exit 2 (input) or 3 (ledger), and change nothing:
out-of-range numbers, non-UTF-8 file names, a mistyped or foreign ledger path. A killed
``monitor`` leaves no Prefect server behind."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.scenes import make_scene
from tests.test_cli_run import LANDPATROL, dump, landpatrol

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


def _run(scene, ledger: Path, *extra: str | Path, after: Path | None = None):
    return landpatrol("run", "--before", scene.before, "--after", after or scene.after,
                      "--zones", scene.zones, "--ledger", f"sqlite:///{ledger}", *extra)


def _one_line(proc: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert proc.returncode == code, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.mark.parametrize("value", ["1.5", "-0.1", "nan", "inf"])
def test_out_of_range_threshold_is_one_line_exit_2(scene, tmp_path, value):
    proc = _run(scene, tmp_path / "l.sqlite", "--threshold", value, "--out", tmp_path / "out")
    _one_line(proc, 2, "--threshold")
    assert not (tmp_path / "l.sqlite").exists() and not (tmp_path / "out").exists()


def test_non_utf8_file_name_is_refused_before_any_write(scene, tmp_path):
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/after\xff_20240601.tif"))
    odd.write_bytes(scene.after.read_bytes())
    proc = _run(scene, tmp_path / "l.sqlite", "--out", tmp_path / "out", after=odd)
    line = _one_line(proc, 2, "not valid UTF-8", "--after")
    assert "\\xff" in line
    assert not (tmp_path / "l.sqlite").exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [
    ["leads", "export", "--output", "{tmp}/leads.geojson"], ["leads", "list"],
    ["ledger", "list"], ["ledger", "verify"], ["ledger", "history", "X-2024-0001"],
    ["ledger", "stats", "--from", "2024-01-01", "--to", "2024-12-31"], ["serve"],
    ["review", "reconcile", "--batch", "2024-1"], ["review", "overdue", "--batch", "2024-1"],
    ["review", "evidence", "320115202400001", "--by", "zhang", "--set", "judgment=伪变化"],
    ["review", "export", "--batch", "2024-1", "--output", "{tmp}/leads.geojson"],
    ["review", "dossier", "320115202400001", "--output", "{tmp}/d.pdf"],
    ["review", "dossiers", "--batch", "2024-1", "--output", "{tmp}/d"],
    ["assess", "--from", "2024-01-01", "--to", "2024-12-31"], ["report", "due"], ["ledger", "clue", "list"],
    ["ledger", "transition", "X-2024-0001", "--to", "dispatched", "--by", "chen"],
])
def test_commands_refuse_a_missing_ledger(tmp_path, command):
    """A mistyped ledger path is bad input: one line naming it, exit 2, no empty ledger made."""
    typo = tmp_path / "ledgr.sqlite"
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    proc = landpatrol(*args, "--ledger", f"sqlite:///{typo}")
    _one_line(proc, 2, "no ledger at", str(typo))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_users_add_refuses_a_missing_ledger(tmp_path):
    typo = tmp_path / "ledgr.sqlite"
    proc = subprocess.run([*LANDPATROL, "users", "add", "wang", "--role", "analyst", "--password-stdin",
                           "--ledger", f"sqlite:///{typo}"], input="a-long-password\n",
                          capture_output=True, text=True, timeout=300)
    _one_line(proc, 2, "no ledger at", str(typo))
    assert not typo.exists()


def test_review_import_starts_a_ledger_but_not_for_a_refused_file(tmp_path):
    from tests.review_fixtures import standard_batch

    new = tmp_path / "new.sqlite"
    bad = tmp_path / "issued.csv"
    bad.write_text("no,columns,here\n1,2,3\n", encoding="utf-8")
    args = ["--batch", "2024-1", "--issued-on", "2024-06-14", "--ledger", f"sqlite:///{new}"]
    _one_line(landpatrol("review", "import", bad, *args), 2, str(bad))
    assert not new.exists()
    batch = standard_batch(tmp_path)
    _one_line(landpatrol("review", "import", batch, *args), 2, "give --region")  # refused in the ledger
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("new")) == []
    proc = landpatrol("review", "import", batch, *args, "--region", "NJ")
    assert proc.returncode == 0, proc.stderr
    assert new.exists() and "opened new leads" in proc.stdout


def test_foreign_sqlite_file_is_not_a_ledger(scene, tmp_path):
    foreign = tmp_path / "inventory.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE parcels (id INTEGER PRIMARY KEY, owner TEXT)")
        con.execute("INSERT INTO parcels (owner) VALUES ('x')")
    before = dump(foreign)
    _one_line(landpatrol("ledger", "list", "--ledger", f"sqlite:///{foreign}"), 3,
              "not a landpatrol ledger")
    _one_line(_run(scene, foreign), 3, "not a landpatrol ledger")
    assert dump(foreign) == before
    junk = tmp_path / "notes.sqlite"
    junk.write_text("these are my notes, not a database\n")
    _one_line(landpatrol("ledger", "list", "--ledger", f"sqlite:///{junk}"), 3,
              "not a landpatrol ledger")


def _children(pid: int) -> set[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return set()
    return {int(c) for c in text.split()}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_killed_monitor_leaves_no_prefect_server(scene, tmp_path, sig):
    region = tmp_path / "region"
    (region / "tiles").mkdir(parents=True)
    (region / "tiles" / "T_2024-03-01.tif").write_bytes(scene.before.read_bytes())
    (region / "tiles" / "T_2024-06-01.tif").write_bytes(scene.after.read_bytes())
    (region / "zones.geojson").write_bytes(scene.zones.read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(REPO),
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen([*LANDPATROL, "monitor", str(region), "--ledger",
                             f"sqlite:///{tmp_path / 'l.sqlite'}"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, server = time.monotonic() + 240, set()
        while time.monotonic() < deadline and not server and proc.poll() is None:
            time.sleep(0.5)
            server = {c for c in _children(proc.pid)
                      if b"uvicorn" in Path(f"/proc/{c}/cmdline").read_bytes()}
        assert server, "monitor started no temporary Prefect server"
        time.sleep(1.0)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        if sig == signal.SIGTERM:
            assert proc.returncode == 128 + signal.SIGTERM
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in server):
            time.sleep(0.2)
        assert not any(_alive(p) for p in server), "the Prefect server outlived monitor"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in server if "server" in locals() else ():
            if _alive(p):
                os.kill(p, signal.SIGKILL)
