"""What an analyst sees in Prefect, against a real `prefect server start`: readable run names,
the runs' logs, a lead table and a summary per pair, and notifications through a webhook block
when a run fails or brings new priority-1 leads."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.prefect_server import free_port, prefect_server
from tests.test_flows import _region

REPO = Path(__file__).resolve().parents[1]


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Hook.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _wait_for(predicate, seconds: float):
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(1)
    return predicate()


@pytest.mark.server
@pytest.mark.slow
def test_monitor_shows_logs_artifacts_names_and_notifies(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        LogFilter,
    )
    from prefect.settings import PREFECT_API_URL, temporary_settings

    region = _region(tmp_path)
    hook_port = free_port()
    hook = HTTPServer(("127.0.0.1", hook_port), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    _Hook.received = []
    try:
        with prefect_server(tmp_path / "home") as (api, env):
            env = dict(env, PYTHONPATH=str(REPO), LANDPATROL_LANG="en",
                       LANDPATROL_WEB_URL="http://patrol.example:8000")
            setup = subprocess.run([sys.executable, "-m", "flows.notify",
                                    str(REPO / "notifications.example.yaml"), "--webhook",
                                    f"http://127.0.0.1:{hook_port}/hook"],
                                   env=env, cwd=REPO, check=False, capture_output=True, text=True, timeout=120)
            assert setup.returncode == 0, setup.stdout + setup.stderr
            assert "automation landpatrol-priority-1-leads" in setup.stdout
            ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
            landpatrol = str(Path(sys.executable).with_name("landpatrol"))
            run = subprocess.run([landpatrol, "monitor", str(region),
                                  "--ledger", ledger, "--out", str(tmp_path / "runs")],
                                 env=env, cwd=REPO, check=False, capture_output=True, text=True, timeout=400)
            assert run.returncode == 0, run.stderr[-3000:]
            assert "FT-2024-0001" in run.stdout
            assert " | INFO " not in run.stdout + run.stderr  # the console stays quiet
            bad = subprocess.run(
                [sys.executable, "-c", ("from flows.detect_changes import detect_changes\n"
                 f"detect_changes(before={str(tmp_path / 'missing_2024-01-01.tif')!r}, "
                 f"after={str(tmp_path / 'missing_2024-02-01.tif')!r}, "
                 f"zones={str(region / 'zones.geojson')!r}, ledger={ledger!r}, region='flowtown')")],
                env=env, cwd=REPO, check=False, capture_output=True, text=True, timeout=300)
            assert bad.returncode != 0

            with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
                runs = {r.name: r for r in client.read_flow_runs()}
                assert "flowtown 2024-03-01→2024-09-01" in runs, sorted(runs)
                assert "flowtown 2024-01-01→2024-02-01" in runs  # the failed pair run
                region_run = runs["flowtown 2024-03-01→2024-09-01"]
                assert region_run.state_type.value == "COMPLETED"
                task_names = {t.name for t in client.read_task_runs()}
                assert {"analyse flowtown 2024-03-01→2024-06-01",
                        "record flowtown 2024-06-01→2024-09-01"} <= task_names
                # the pairs of a region run in a subflow on the Dask cluster, named by its region
                pair_runs = [r.id for name, r in runs.items() if name.startswith("flowtown: 2 pairs on ")]
                assert pair_runs, sorted(runs)
                logs = client.read_logs(LogFilter(flow_run_id={"any_": [region_run.id, *pair_runs]}))
                text = "\n".join(log.message for log in logs)
                assert "region flowtown: 3 tile(s), 2 successive pair(s)" in text
                assert "2024-03-01 -> 2024-06-01: 1 new lead(s)" in text
                table = client.read_artifacts(artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["leads-ft-20240301-20240601"])))
                assert [a.type for a in table] == ["table"]
                rows = json.loads(table[0].data) if isinstance(table[0].data, str) else table[0].data
                assert rows[0]["code"] == "FT-2024-0001" and rows[0]["priority"] == 1
                assert rows[0]["lead page"] == "http://patrol.example:8000/leads/FT-2024-0001"
                summary = client.read_artifacts(artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["summary-ft-20240301-20240601"])))
                md = summary[0].data
                assert summary[0].type == "markdown" and "# flowtown 2024-03-01→2024-06-01" in md
                assert "| new leads | 1 |" in md and "| detector | `" in md and "score > " in md
                assert "run folder: [" in md and "file://" in md
                quiet = client.read_artifacts(artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["summary-ft-20240601-20240901"])))
                assert "| new leads | 0 |" in quiet[0].data

            got = _wait_for(lambda: len(_Hook.received) >= 2 and _Hook.received, 90)
            subjects = [m.get("subject", "") for m in got or []]
            assert any("1 new priority-1 lead(s)" in s for s in subjects), got
            assert any("flowtown 2024-01-01→2024-02-01" in s and "Failed" in s
                       for s in subjects), got
            p1 = next(m for m in got if "priority-1" in m["subject"])
            assert "FT-2024-0001" in p1["body"]
    finally:
        hook.shutdown()
