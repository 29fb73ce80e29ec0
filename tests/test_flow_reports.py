"""The `periodic-reports` flow (Prefect test harness): report files, ledger record, table artifact."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.reporting import pdf

pytestmark = pytest.mark.skipif(not pdf.cjk_families() or shutil.which("pdftotext") is None,
                                reason="needs a Chinese font and poppler-utils")


def test_periodic_reports_flow_writes_the_month_and_publishes_indicators(harness, tmp_path: Path) -> None:
    from prefect.artifacts import Artifact

    from flows.periodic_reports import artifact_key, periodic_reports
    from pipeline.ledger import Ledger
    from pipeline.ledger.calendar import WorkCalendar
    from tests.test_assessment import build_2026

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger.open(url, calendar=WorkCalendar()) as led:
        build_2026(led)
    result = periodic_reports(ledger=url, out=str(tmp_path / "reports"), today="2026-06-03")
    assert Path(result["pdf"]).name == "monthly-2026-05.pdf" and Path(result["pdf"]).is_file()
    figs = json.loads(Path(result["json"]).read_text(encoding="utf-8"))
    assert figs["period"]["label"] == "2026-05" and result["indicators"]["patrol_share"] == 0.5
    art = Artifact.get(artifact_key("2026-05", None, None))
    assert art is not None and art.type == "table"
    table = json.loads(art.data) if isinstance(art.data, str) else art.data
    rows = {r["key"]: r for r in table}
    assert rows["patrol_share"]["数值"] == "50.0%" and rows["stop_rate"]["结论"] == "未达标"
    from pipeline.reporting.issued import issued

    with Ledger.open(url) as led:
        hist = led.read(issued)
    assert [(h["kind"], h["label"]) for h in hist] == [("monthly", "2026-05")]


def test_report_schedules_become_cron_deployments(tmp_path: Path) -> None:
    from flows.schedule import load_report_schedules, load_schedules, report_deployments
    from pipeline.errors import ConfigError

    path = tmp_path / "schedules.yaml"
    path.write_text("ledger: sqlite:///x.sqlite\nreports:\n"
                    "  - {name: county, cron: '0 8 5 * *', out: rep, region: nanjing}\n", encoding="utf-8")
    assert load_schedules(path) == []
    deps = report_deployments(load_report_schedules(path))
    assert [d.name for d in deps] == ["reports-county"]
    assert deps[0].schedules[0].schedule.cron == "0 8 5 * *"
    assert deps[0].parameters["out"] == str(tmp_path / "rep") and deps[0].parameters["region"] == "nanjing"
    path.write_text("reports:\n  - {name: c, cron: 'monthly'}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad cron"):
        load_report_schedules(path)
