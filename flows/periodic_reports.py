"""Prefect flow ``periodic-reports``: write the month's report and publish its indicators.

The flow is thin: :func:`pipeline.reporting.periodic.collect` reads the figures (the same as
``landpatrol assess`` and ``ledger stats``), :func:`write_report` writes the PDF and figures JSON,
the issue is recorded in the ledger, and the indicator table becomes a Prefect table artifact
(key ``indicators-<area>-<YYYY-MM>``) so supervisors see it in the Prefect UI. Deployed on a cron
schedule through ``schedules.yaml`` (``reports:``, see :mod:`flows.schedule`); without
``month`` it reports the previous month, as a run early each month does.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task


def previous_month(today: date) -> str:
    return f"{today.year - 1}-12" if today.month == 1 else f"{today.year}-{today.month - 1:02d}"


def artifact_key(label: str, region: str | None, unit: str | None) -> str:
    area = "-".join(x for x in (region, unit) if x) or "all"
    return re.sub(r"[^a-z0-9-]+", "-", f"indicators-{area}-{label}".lower()).strip("-")


def indicator_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The indicator table as printed in the report (one row per indicator)."""
    return [{"指标": i["name_zh"], "key": i["key"], "数值": i["shown"], "标准": i["shown_threshold"],
             "分子/分母": i["shown_ratio"], "结论": i["verdict"] or (i["reason"] or "")}
            for i in figures["indicators"]]


@task(name="write-report")
def write_report_task(ledger: str, month: str, out: Path, region: str | None, unit: str | None,
                      today: date) -> dict[str, Any]:
    from pipeline.assessment.data import Area
    from pipeline.assessment.period import month as parse_month
    from pipeline.ledger import Ledger
    from pipeline.reporting.issued import record_issued
    from pipeline.reporting.periodic import collect, public, write_report

    period = parse_month(month)
    name = "-".join(x for x in ("monthly", region, unit, period.label) if x)
    pdf, js = out / f"{name}.pdf", out / f"{name}.json"
    with Ledger.open(ledger) as led:
        figs = led.read(lambda c: collect(c, period, Area(region=region, unit=unit), today, led.calendar))
        write_report(figs, pdf, js)
        led.write(lambda c: record_issued(c, figs, pdf, "periodic-reports"))
    return public(figs) | {"pdf": str(pdf), "json": str(js)}


@flow(name="periodic-reports", log_prints=False)
def periodic_reports(ledger: str | None = None, out: str = "reports", month: str | None = None,
                     region: str | None = None, unit: str | None = None,
                     today: str | None = None) -> dict[str, Any]:
    """Write the monthly report of ``month`` (default: the previous month) to ``out``."""
    from prefect.artifacts import create_table_artifact

    from pipeline.assessment.period import china_today
    from pipeline.cli.options import default_ledger_url
    from pipeline.errors import OutputError

    day = date.fromisoformat(today) if today else china_today()
    label = month or previous_month(day)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(folder, f"cannot create the report folder ({exc.strerror})") from None
    figs = write_report_task(ledger or default_ledger_url(), label, folder, region, unit, day)
    create_table_artifact(key=artifact_key(label, region, unit), table=indicator_rows(figs),
                          description=f"{figs['title']}（截至 {figs['as_of']}）: {figs['pdf']}")
    get_run_logger().info("report %s written to %s", figs["title"], figs["pdf"])
    return {"pdf": figs["pdf"], "json": figs["json"], "title": figs["title"],
            "indicators": {i["key"]: i["value"] for i in figs["indicators"]}}
