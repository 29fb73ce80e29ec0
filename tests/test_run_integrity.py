"""A run's ledger record and its run folder land together: a failure or a kill between the
ledger commit and the folder leaves a record that a rerun completes, never a pair skipped
for good with no evidence, and a staging folder is never served."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.ledger import Ledger
from pipeline.rundirs import STAGING_PREFIX, run_folders, stale_staging
from pipeline.runner import PairRequest, run_pair
from pipeline.web.imagery import find_overlays
from pipeline.web.pages import find_chip
from tests.scenes import make_scene, pair_request

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


def _request(scene, url: str, out: Path, **kw) -> PairRequest:
    return pair_request(scene, url, out_dir=out, **kw)


def _ledger_view(url: str) -> tuple[list[tuple[str, str]], list[str]]:
    with Ledger.open(url) as led:
        leads = led.leads_frame()
        statuses = led.read(lambda c: [r[0] for r in c.exec_driver_sql(
            "SELECT status FROM runs ORDER BY id")])
    return sorted(zip(leads["code"], leads["status"])), statuses


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_after_commit_is_completed_by_the_rerun(scene, ledger_url, tmp_path, monkeypatch):
    clean = run_pair(_request(scene, f"sqlite:///{tmp_path / 'clean.sqlite'}", tmp_path / "clean"))
    out = tmp_path / "out"
    from pipeline import outputs

    with monkeypatch.context() as m:
        m.setattr(outputs, "write_evidence", _disk_full)  # after the ledger commit
        with pytest.raises(Exception, match="No space left"):
            run_pair(_request(scene, ledger_url, out))
    leads, statuses = _ledger_view(ledger_url)
    assert statuses == ["pending_outputs"] and len(leads) == len(clean.created)
    assert list(run_folders(out)) == [] and not list(out.glob(f"{STAGING_PREFIX}*"))

    again = run_pair(_request(scene, ledger_url, out))
    assert not again.skipped and again.out_dir is not None
    assert again.created == clean.created and [r["code"] for r in again.leads] == clean.created
    assert _ledger_view(ledger_url) == (leads, ["completed"])  # nothing recorded twice
    folder = Path(again.out_dir)
    assert sorted(c.stem for c in (folder / "chips").glob("*.png")) == clean.created
    assert json.loads((folder / "run.json").read_text())["pair_key"] == again.pair_key
    third = run_pair(_request(scene, ledger_url, out))
    assert third.skipped and len(list(run_folders(out))) == 1


def test_disk_full_while_staging_records_nothing(scene, ledger_url, tmp_path, monkeypatch):
    from pipeline import outputs

    out = tmp_path / "out"
    monkeypatch.setattr(outputs, "write_imagery", _disk_full)  # before the ledger commit
    with pytest.raises(Exception, match="No space left"):
        run_pair(_request(scene, ledger_url, out))
    assert _ledger_view(ledger_url) == ([], [])
    assert list(out.iterdir()) == []


KILLER = textwrap.dedent("""
    import os, signal, sys
    import pipeline.outputs as outputs
    from pathlib import Path
    from pipeline.runner import PairRequest, run_pair

    real = outputs.write_evidence
    def write_then_die(plan, leads, folder):
        real(plan, leads, folder)  # the staging folder is half-written ...
        os.kill(os.getpid(), signal.SIGKILL)  # ... when the process is killed
    outputs.write_evidence = write_then_die
    before, after, zones, approvals, url, out = sys.argv[1:]
    run_pair(PairRequest(before=Path(before), after=Path(after), zones=Path(zones),
                         approvals=Path(approvals), ledger_url=url, out_dir=Path(out),
                         region="testville", region_code="TV"))
""")


def test_killed_run_leaves_a_record_the_rerun_completes(scene, tmp_path):
    url, out = f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", KILLER, str(scene.before), str(scene.after),
                           str(scene.zones), str(scene.approvals), url, str(out)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    leads, statuses = _ledger_view(url)
    assert statuses == ["pending_outputs"] and leads
    left = list(out.glob(f"{STAGING_PREFIX}*"))
    assert len(left) == 1 and (left[0] / "overlay.json").is_file()  # half a run folder
    assert stale_staging(out) == left
    assert find_overlays(out) == [] and find_chip(out, leads[0][0]) is None  # never served

    again = run_pair(_request(scene, url, out))
    assert not again.skipped and sorted(again.created) == [code for code, _ in leads]
    assert _ledger_view(url) == (leads, ["completed"])
    assert not left[0].exists()  # the stale staging folder is gone
    assert [o.run for o in find_overlays(out)] == [Path(again.out_dir).name]
    assert find_chip(out, leads[0][0]) is not None


def test_staging_folder_is_never_served(tmp_path):
    staging = tmp_path / f"{STAGING_PREFIX}20240301_20240601_abcdef12.999999"
    (staging / "chips").mkdir(parents=True)
    (staging / "chips" / "TV-2024-0001.png").write_bytes(b"\x89PNG")
    for name in ("overlay_before.png", "overlay_after.png"):
        (staging / name).write_bytes(b"\x89PNG")
    (staging / "overlay.json").write_text(json.dumps({"bounds": [[0, 0], [1, 1]]}))
    (staging / "run.json").write_text("{}")
    assert find_overlays(tmp_path) == [] and find_chip(tmp_path, "TV-2024-0001") is None


def test_staging_folders_of_other_hosts_are_left_until_long_idle(tmp_path):
    """Workers on several machines stage into one shared ``--out``: a process cannot see
    another host's processes, so it only takes that host's staging folder for stale once the
    folder has been idle for ``FOREIGN_STALE_HOURS``; its own host's it judges by process id."""
    from pipeline.rundirs import FOREIGN_STALE_HOURS, staging_path

    mine = staging_path(tmp_path, "20240301_20240601_abcdef12")
    mine.mkdir()
    dead_here = tmp_path / mine.name.replace(f"-{os.getpid()}", "-999999")
    busy_there = tmp_path / f"{STAGING_PREFIX}20240301_20240601_abcdef13.elsewhere-node-17-4242"
    idle_there = tmp_path / f"{STAGING_PREFIX}20240301_20240601_abcdef14.elsewhere-node-17-4243"
    old_style = tmp_path / f"{STAGING_PREFIX}20240301_20240601_abcdef15.999999"
    for p in (dead_here, busy_there, idle_there, old_style):
        p.mkdir()
    long_ago = time.time() - (FOREIGN_STALE_HOURS + 1) * 3600
    os.utime(idle_there, (long_ago, long_ago))
    assert stale_staging(tmp_path) == sorted([dead_here, idle_there, old_style])
