"""The Prefect flows: against the test harness, and once against a real `prefect server start`."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.prefect_server import prefect_server
from tests.scenes import make_scene

REPO = Path(__file__).resolve().parents[1]


def _touch_one_pixel(path: Path) -> None:
    import rasterio

    with rasterio.open(path, "r+") as ds:
        window = rasterio.windows.Window(0, 0, 1, 1)
        ds.write(ds.read(1, window=window) + 1, 1, window=window)


def _region(root: Path) -> Path:
    """A region folder with three dated tiles: two successive pairs."""
    scene = make_scene(root / "src")
    region = root / "region"
    (region / "tiles").mkdir(parents=True)
    for src, name in ((scene.before, "T_2024-03-01.tif"), (scene.after, "T_2024-06-01.tif"),
                      (scene.after, "T_2024-09-01.tif")):
        (region / "tiles" / name).write_bytes(src.read_bytes())
    _touch_one_pixel(region / "tiles" / "T_2024-09-01.tif")  # another acquisition, not a copy
    (region / "zones.geojson").write_bytes(scene.zones.read_bytes())
    (region / "approvals.geojson").write_bytes(scene.approvals.read_bytes())
    (region / "region.yaml").write_text("name: flowtown\ncode: FT\n", encoding="utf-8")
    return region


def test_detect_changes_flow_records_leads_and_is_idempotent(harness, tmp_path):
    from flows.detect_changes import detect_changes

    scene = make_scene(tmp_path / "scene")
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    first = detect_changes(before=scene.before, after=scene.after, zones=scene.zones,
                           approvals=scene.approvals, ledger=ledger, region="flowtown",
                           region_code="FT", out=tmp_path / "out")
    assert first["created"] == ["FT-2024-0001"]
    again = detect_changes(before=scene.before, after=scene.after, zones=scene.zones,
                           approvals=scene.approvals, ledger=ledger, region="flowtown",
                           region_code="FT")
    assert again["skipped"] is True and again["created"] == []


def test_detect_changes_rejects_bad_parameters(harness, tmp_path):
    from prefect.exceptions import ParameterTypeError

    from flows.detect_changes import detect_changes

    with pytest.raises(ParameterTypeError):
        detect_changes(before=tmp_path, after=tmp_path, zones=tmp_path, threshold="high")


def test_monitor_region_processes_successive_pairs_in_date_order(harness, tmp_path):
    from flows.monitor_region import monitor_region

    region = _region(tmp_path)
    ledger = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    reports = monitor_region(region_dir=region, ledger=ledger)
    assert [(r["before_date"], r["after_date"]) for r in reports] == [
        ("2024-03-01", "2024-06-01"), ("2024-06-01", "2024-09-01")]
    assert reports[0]["created"] == ["FT-2024-0001"]
    assert reports[1]["created"] == []  # nothing changed between June and September
    again = monitor_region(region_dir=region, ledger=ledger)
    assert all(r["skipped"] for r in again)


def test_schedules_file_becomes_one_cron_deployment_per_region(tmp_path):
    from flows.schedule import deployments, load_schedules

    path = tmp_path / "schedules.yaml"
    path.write_text("ledger: sqlite:///x.sqlite\nregions:\n"
                    "  - {name: a, path: ra, cron: '0 6 * * *'}\n"
                    "  - {name: b, path: rb, cron: '30 7 * * 1-5', timezone: UTC}\n",
                    encoding="utf-8")
    deps = deployments(load_schedules(path))
    assert [d.name for d in deps] == ["monitor-a", "monitor-b"]
    assert deps[1].schedules[0].schedule.cron == "30 7 * * 1-5"
    assert deps[0].parameters["region_dir"] == str(tmp_path / "ra")


def test_bad_cron_is_refused_with_the_file_named(tmp_path):
    from flows.schedule import load_schedules
    from pipeline.errors import ConfigError

    path = tmp_path / "s.yaml"
    path.write_text("regions:\n  - {name: a, path: ra, cron: 'every day'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="s.yaml"):
        load_schedules(path)


@pytest.mark.server
def test_flow_against_a_real_prefect_server(tmp_path):
    """`prefect server start` on localhost; a flow run in another process reports to it."""
    with prefect_server(tmp_path / "home") as (api, env):
        scene = make_scene(tmp_path / "scene")
        code = (
            "from flows.detect_changes import detect_changes\n"
            f"r = detect_changes(before={str(scene.before)!r}, after={str(scene.after)!r}, "
            f"zones={str(scene.zones)!r}, ledger={'sqlite:///' + str(tmp_path / 'l.sqlite')!r}, "
            "region='srv', region_code='SRV')\n"
            "print(r['created'])\n"
        )
        run = subprocess.run([sys.executable, "-c", code], env=env,
                             cwd=REPO, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "SRV-2024-0001" in run.stdout
        req = urllib.request.Request(f"{api}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            runs = json.loads(resp.read())
        assert [r["state_type"] for r in runs] == ["COMPLETED"]


def test_an_analysis_whose_scratch_is_gone_runs_again_as_its_task(harness, tmp_path, monkeypatch):
    """Prefect persists analyses across runs; with the cache folder cleaned, the persisted result
    has no rasters: the analysis task runs again (on its worker, in a cluster), instead of the
    record step re-analysing in the flow's process."""
    import sys as _sys

    import flows.detect_changes as dc

    monkeypatch.setenv("LANDPATROL_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[str] = []
    real = dc.analyse_pair

    def counted(plan, workdir, *args, **kwargs):
        calls.append(_sys._getframe(1).f_code.co_name)
        return real(plan, workdir, *args, **kwargs)

    monkeypatch.setattr(dc, "analyse_pair", counted)
    scene = make_scene(tmp_path / "scene")

    def run(n: int) -> dict:
        return dc.detect_changes(before=scene.before, after=scene.after, zones=scene.zones,
                                 approvals=scene.approvals, ledger=f"sqlite:///{tmp_path / f'l{n}.sqlite'}",
                                 region="flowtown", region_code="FT")

    first = run(1)
    second = run(2)                      # scratch present: the persisted analysis is reused
    assert calls == ["analyse_task"] and second["created"] == first["created"]
    import shutil

    shutil.rmtree(tmp_path / "cache")
    third = run(3)
    assert calls == ["analyse_task", "analyse_task"] and third["created"] == first["created"]
