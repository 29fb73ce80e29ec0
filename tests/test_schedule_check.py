"""`landpatrol schedule --check`: every region path and file a scheduled run reads is checked,
each problem one line naming its file, exit 2, nothing written."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.test_flows import _region


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str):
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["landpatrol", *args])
    rc = run_app(app)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_good_regions_pass_and_every_broken_file_is_named(tmp_path: Path, monkeypatch, capsys) -> None:
    good = _region(tmp_path / "good")
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(f"ledger: sqlite:///{tmp_path / 'ledger.sqlite'}\nout: {tmp_path / 'runs'}\n"
                         f"regions:\n  - {{name: good, path: {good}, cron: '0 6 * * *'}}\n",
                         encoding="utf-8")
    rc, out, err = _cli(monkeypatch, capsys, "schedule", str(schedules), "--check")
    assert rc == 0, err
    assert out.strip() == f"monitor-good: {good} at '0 6 * * *' (Asia/Shanghai), 3 tile(s): ok"
    assert not (tmp_path / "ledger.sqlite").exists() and not (tmp_path / "runs").exists()

    broken = _region(tmp_path / "broken")
    bad_tile = broken / "tiles" / "T_2024-06-01.tif"
    bad_tile.write_bytes(b"not a tiff at all")
    zones = json.loads((broken / "zones.geojson").read_text(encoding="utf-8"))
    for feature in zones["features"]:
        feature["properties"].pop("level")
    (broken / "zones.geojson").write_text(json.dumps(zones), encoding="utf-8")
    (broken / "approvals.geojson").write_text("{not json", encoding="utf-8")
    noyaml = _region(tmp_path / "noyaml")
    (noyaml / "region.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    shutil.rmtree(tmp_path / "good")
    schedules.write_text(
        f"ledger: sqlite:///{tmp_path / 'nowhere' / 'ledger.sqlite'}\nregions:\n"
        f"  - {{name: broken, path: {broken}, cron: '0 6 * * *'}}\n"
        f"  - {{name: gone, path: {tmp_path / 'good'}, cron: '0 7 * * *'}}\n"
        f"  - {{name: noyaml, path: {noyaml}, cron: '0 8 * * *'}}\n", encoding="utf-8")
    rc, out, err = _cli(monkeypatch, capsys, "schedule", str(schedules), "--check")
    assert rc == 2
    lines = out.strip().splitlines()
    assert lines[0].startswith("monitor-broken:") and lines[0].endswith("4 problem(s)")  # tile, zones, approvals, ledger
    assert lines[1].startswith("monitor-gone:") and lines[2].startswith("monitor-noyaml:")
    problems = [p for p in err.splitlines() if p]
    assert all(p.startswith("  error: ") for p in problems)
    assert any(str(bad_tile) in p for p in problems)
    assert any(str(broken / "zones.geojson") in p and "level" in p for p in problems)
    assert any(str(broken / "approvals.geojson") in p for p in problems)
    assert any("nowhere" in p and "does not exist" in p for p in problems)
    assert any(str(tmp_path / "good") in p and "not found" in p for p in problems)
    assert any(str(noyaml / "region.yaml") in p and "YAML" in p for p in problems)
    assert not (tmp_path / "nowhere").exists()
