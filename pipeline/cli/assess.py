"""``landpatrol assess``: the assessment indicators of a period and area."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError, OutputError

PlanOpt = typer.Option(None, "--plan", help="Patrol plan (YAML/JSON: minimum frequency per level, "
                       "key periods); default: the county rules in pipeline/assessment/plans.py.")
JsonOutOpt = typer.Option(None, "--json", help="Write the figures as JSON to this file.")
TodayOpt = typer.Option(None, "--today", help="As of (YYYY-MM-DD; default today).")
CoverageOpt = typer.Option(500.0, "--coverage-m", help="Distance (m) from a patrol route that counts "
                           "as patrolled, for patrol coverage.")


def shown(value: Any, unit: str) -> str:
    """An indicator value as printed (tables, reports): percentages for ratios, days as days."""
    if value is None:
        return "—"
    return f"{float(value):.1f}" if unit == "working days" else f"{100 * float(value):.1f}%"


def write_json(doc: Any, path: Path) -> None:
    if path.is_dir() or not path.parent.exists():
        raise OutputError(path, "cannot write the JSON file there (a folder, or its folder is missing)")
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


@app.command("assess")
def assess_cmd(start: str = typer.Option(..., "--from", help="YYYY-MM-DD (China date)"),
               end: str = typer.Option(..., "--to", help="YYYY-MM-DD"),
               region: str | None = typer.Option(None, "--region"),
               unit: str | None = typer.Option(None, "--unit", help="Responsible unit of the zones."),
               plan: Path | None = PlanOpt, coverage_m: float = CoverageOpt,
               today: str | None = TodayOpt,
               json_out: Path | None = JsonOutOpt,
               ledger: str | None = LedgerOpt) -> None:
    """The assessment indicators (patrol share, stop/filing rates, red line, patrol frequency...)."""
    from datetime import date

    from pipeline.assessment.data import Area
    from pipeline.assessment.period import span
    from pipeline.assessment.plans import load_plan
    from pipeline.ledger import Ledger

    days = []
    for opt, value in (("--from", start), ("--to", end), ("--today", today)):
        try:
            days.append(None if value is None else date.fromisoformat(value))
        except ValueError:
            raise ConfigError(opt, f"'{value}' is not a YYYY-MM-DD date") from None
    if coverage_m <= 0:
        raise ConfigError("--coverage-m", "must be positive")
    assert days[0] is not None and days[1] is not None
    period, patrol_plan = span(days[0], days[1]), load_plan(plan)
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        result = led.assess(period, Area(region=region, unit=unit), today=days[2], plan=patrol_plan,
                            coverage_m=coverage_m)
    doc = result.as_dict()
    if json_out is not None:
        write_json(doc, json_out)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"assessment {period.start} .. {period.end} (as of {result.as_of})")
    for col in ("key", "indicator", "value", "threshold", "ok", "numerator / denominator", "why none"):
        table.add_column(col)
    for i in result.indicators:
        table.add_row(i.key, i.name_zh, shown(i.value, i.unit),
                      "" if i.threshold is None else shown(i.threshold, i.unit),
                      {True: "yes", False: "NO", None: ""}[i.ok],
                      f"{_n(i.numerator)} / {_n(i.denominator)}", i.reason or "")
    Console(width=200).print(table)


def _n(v: Any) -> str:
    if v is None:
        return "—"
    return str(int(v)) if float(v).is_integer() else f"{float(v):.2f}"
