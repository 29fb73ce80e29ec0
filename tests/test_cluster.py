"""A region's pairs on Dask (flows.cluster): a LocalCluster, and a real `dask scheduler` + `dask
worker` on 127.0.0.1, give the ledger exactly the leads a run one pair after another gives."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rasterio

from tests.scenes import make_scene

REPO = Path(__file__).resolve().parents[1]


def _region(root: Path) -> Path:
    """Four dated tiles, three successive pairs; changes appear in the first and the third."""
    scene = make_scene(root / "src")
    region = root / "region"
    (region / "tiles").mkdir(parents=True)
    for src, name in ((scene.before, "T_2024-03-01.tif"), (scene.after, "T_2024-06-01.tif"),
                      (scene.after, "T_2024-09-01.tif"), (scene.before, "T_2024-12-01.tif")):
        (region / "tiles" / name).write_bytes(src.read_bytes())
    # the unchanged middle pair is a re-acquisition, not the same file twice: one pixel differs
    with rasterio.open(region / "tiles" / "T_2024-09-01.tif", "r+") as ds:
        band = ds.read(1)
        band[0, 0] += 1
        ds.write(band, 1)
    (region / "zones.geojson").write_bytes(scene.zones.read_bytes())
    (region / "approvals.geojson").write_bytes(scene.approvals.read_bytes())
    (region / "region.yaml").write_text("name: daskton\ncode: DK\n", encoding="utf-8")
    return region


def _leads(url: str) -> list[tuple]:
    from pipeline.ledger import Ledger

    with Ledger.open(url) as led:
        frame = led.leads_frame()
        runs = sorted(led.compared_pair_keys("DK"))
    rows = [(r.code, round(r.area_m2, 3), r.seen_count, str(r.first_seen), str(r.last_seen),
             r.geometry.wkt) for r in frame.itertuples()]
    return rows + [("pairs", tuple(runs))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_local_cluster_gives_the_leads_of_a_run_one_pair_after_another(harness, tmp_path):
    from flows.monitor_region import monitor_region

    region = _region(tmp_path)
    serial, parallel = (f"sqlite:///{tmp_path / name}" for name in ("a.sqlite", "b.sqlite"))
    one = monitor_region(region_dir=region, ledger=serial, workers=1, out=tmp_path / "out1")
    two = monitor_region(region_dir=region, ledger=parallel, workers=2, out=tmp_path / "out2")
    assert [r["created"] for r in one] == [r["created"] for r in two]
    assert [r["updated"] for r in one] == [r["updated"] for r in two]
    assert _leads(serial) == _leads(parallel) and len(_leads(serial)) > 1
    # the run folders, staged on the workers and published here, are those of a serial run
    folders = [sorted(p for p in (tmp_path / out).iterdir()) for out in ("out1", "out2")]
    assert [f.name for f in folders[0]] == [f.name for f in folders[1]] and len(folders[0]) == 3
    for a, b in zip(*folders):
        files = sorted(str(f.relative_to(a)) for f in a.rglob("*"))
        assert files == sorted(str(f.relative_to(b)) for f in b.rglob("*"))
        assert "before.tif" in files and "quicklook.png" in files
        assert not any(".quicklook-samples" in f for f in files)
        with rasterio.open(a / "after.tif") as x, rasterio.open(b / "after.tif") as y:
            assert (x.read() == y.read()).all()
    again = monitor_region(region_dir=region, ledger=parallel, workers=2)
    assert all(r["skipped"] for r in again) and _leads(parallel) == _leads(serial)


@pytest.mark.timeout(600)
def test_monitor_against_a_dask_scheduler_started_by_hand(harness, tmp_path):
    from pipeline.cli.monitor import run_monitor

    region = _region(tmp_path)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads",
                                       "1", "--no-dashboard"], env=env, cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids  # separate processes
        local, remote = (f"sqlite:///{tmp_path / name}" for name in ("local.sqlite", "dask.sqlite"))
        by_hand = run_monitor(region, remote, None, dask=address)
        one_by_one = run_monitor(region, local, None, workers=1)
        assert [r.created for r in by_hand] == [r.created for r in one_by_one]
        assert _leads(remote) == _leads(local)
        assert sum(len(r.created) for r in by_hand) >= 1
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        time.sleep(0.1)


def test_local_cluster_shares_the_cores_out_over_its_workers(harness, monkeypatch):
    """Each LocalCluster worker analyses one pair at a time on its share of the cores (two
    workers on 2 cores: one thread each, not two each); ``$LANDPATROL_THREADS`` wins."""
    from flows.cluster import pair_threads, task_runner

    monkeypatch.delenv("LANDPATROL_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert [pair_threads(n) for n in (1, 2, 4)] == [2, 1, 1]
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert [pair_threads(n) for n in (1, 2, 4, 8)] == [4, 4, 4, 2]
    env = task_runner(4).cluster_kwargs["env"]
    assert env["LANDPATROL_THREADS"] == "4"
    monkeypatch.setenv("LANDPATROL_THREADS", "3")
    assert pair_threads(2) == 3 and task_runner(2).cluster_kwargs["env"]["LANDPATROL_THREADS"] == "3"


def test_local_cluster_workers_report_to_the_flows_prefect_api(harness):
    """The workers get the API the flow reports to, so none starts an ephemeral server of its own."""
    from prefect.client.orchestration import get_client

    from flows.cluster import task_runner

    with get_client(sync_client=True) as client:
        url = str(client.api_url)
    assert url.startswith("http://")
    assert task_runner(2).cluster_kwargs["env"]["PREFECT_API_URL"] == url


def test_local_cluster_workers_keep_glibcs_own_allocator_settings(harness):
    """Dask starts nanny workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which made a pair 1.3-1.6x
    slower there than in a plain process (benchmarks/README.md); the region's LocalCluster
    starts its workers without it."""
    import dask
    from distributed import Client, LocalCluster

    from flows.cluster import TRIM_KEY, task_runner

    with dask.config.set({TRIM_KEY: 65536}):  # Dask's default, restored on the way out
        kwargs = task_runner(1).cluster_kwargs
        assert dask.config.get(TRIM_KEY) is None
        with LocalCluster(**kwargs) as cluster, Client(cluster) as client:
            env = next(iter(client.run(lambda: dict(os.environ)).values()))
    assert "MALLOC_TRIM_THRESHOLD_" not in env
    assert env["LANDPATROL_THREADS"] == kwargs["env"]["LANDPATROL_THREADS"]
