"""The ledger key file is created once, whole, even by processes starting at the same moment."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.ledger.keys import ledger_key

REPO = Path(__file__).resolve().parents[1]


def test_created_on_first_use_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cfg" / "ledger.key"
    monkeypatch.delenv("LANDPATROL_LEDGER_KEY", raising=False)
    monkeypatch.setenv("LANDPATROL_LEDGER_KEY_FILE", str(path))
    first = ledger_key()
    assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_text().strip()) == 64
    assert ledger_key().secret == first.secret  # read, not made again
    assert [p.name for p in path.parent.iterdir()] == ["ledger.key"]  # no temporary left


def test_processes_racing_to_create_it_all_get_the_same_whole_key(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    env = {k: v for k, v in os.environ.items() if k != "LANDPATROL_LEDGER_KEY"}
    env["LANDPATROL_LEDGER_KEY_FILE"] = str(path)
    code = ("import time, sys; from pipeline.ledger.keys import ledger_key\n"
            "t = float(sys.argv[1])\n"
            "while time.time() < t: pass\n"
            "print(ledger_key().key_id)")
    import time

    start = time.time() + 3.0  # every process imports first, then all call at once
    procs = [subprocess.Popen([sys.executable, "-c", code, str(start)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert len({out.strip() for out, _ in outs}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.key"]


def test_a_slow_first_writer_never_shows_an_empty_key_file(tmp_path: Path) -> None:
    """The first process is slow between creating its key and writing it; a second one starting
    meanwhile neither reads an empty file nor ends with another key."""
    import time

    path, marker = tmp_path / "ledger.key", tmp_path / "writing"
    env = {k: v for k, v in os.environ.items() if k != "LANDPATROL_LEDGER_KEY"}
    env["LANDPATROL_LEDGER_KEY_FILE"] = str(path)
    slow = ("import pathlib, secrets, sys, time\n"
            "from pipeline.ledger import keys\n"
            "real = secrets.token_hex\n"
            "def token_hex(n):\n"
            "    pathlib.Path(sys.argv[1]).touch(); time.sleep(2); return real(n)\n"
            "keys.secrets = type('S', (), {'token_hex': staticmethod(token_hex)})\n"
            "print(keys.ledger_key().key_id)")
    first = subprocess.Popen([sys.executable, "-c", slow, str(marker)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.05)
    second = subprocess.run([sys.executable, "-c", "from pipeline.ledger.keys import ledger_key; "
                             "print(ledger_key().key_id)"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    out, err = first.communicate(timeout=120)
    assert second.returncode == 0, second.stderr
    assert first.returncode == 0, err
    assert out.strip() == second.stdout.strip()


def test_a_short_key_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ledger.key"
    path.write_text("short\n")
    monkeypatch.delenv("LANDPATROL_LEDGER_KEY", raising=False)
    monkeypatch.setenv("LANDPATROL_LEDGER_KEY_FILE", str(path))
    with pytest.raises(ConfigError, match="fewer than 32"):
        ledger_key()
