"""``landpatrol report ...``: periodic reports as Chinese A4 PDFs (with figures JSON, HTML), and
which are due. (``ledger report`` registers a lead reported by people; unrelated.)"""
from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.cli.assess import CoverageOpt, PlanOpt, TodayOpt
from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url

report_app = typer.Typer(help="Periodic reports (月报, 季度/半年分析, 年度总结) and their due dates.",
                         no_args_is_help=True)
app.add_typer(report_app, name="report")
RegionOpt = typer.Option(None, "--region")
UnitOpt = typer.Option(None, "--unit", help="Responsible unit of the zones.")
OutputOpt = typer.Option(..., "--output", help="The PDF to write.")
JsonOpt = typer.Option(None, "--json", help="Also write the figures as JSON.")
HtmlOpt = typer.Option(None, "--html", help="Also write the report as one HTML file.")
ByOpt = typer.Option("landpatrol", "--by", help="Who issues it (recorded in the ledger).")


def _write(period_text: str, kind: str, region: str | None, unit: str | None, output: Path,
           json_out: Path | None, html_out: Path | None, plan: Path | None, coverage_m: float,
           today: str | None, by: str, ledger: str | None) -> None:
    from pipeline.assessment import period as periods
    from pipeline.assessment.data import Area
    from pipeline.assessment.plans import load_plan
    from pipeline.cli.clues import _day
    from pipeline.ledger import Ledger
    from pipeline.reporting.issued import record_issued
    from pipeline.reporting.periodic import collect, write_report

    parse = {"monthly": periods.month, "quarterly": periods.quarter, "half-year": periods.half,
             "annual": periods.year}[kind]
    period, patrol_plan = parse(period_text), load_plan(plan)
    day = _day(today, "--today") or periods.china_today()
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        figs = led.read(lambda c: collect(c, period, Area(region=region, unit=unit), day, led.calendar,
                                          patrol_plan, coverage_m))
        write_report(figs, output, json_out, html_out)
        led.write(lambda c: record_issued(c, figs, output, by))
    failing = [i["name_zh"] for i in figs["indicators"] if i["ok"] is False]
    typer.echo(f"{figs['title']}: {output}" + (f" (未达标: {', '.join(failing)})" if failing else ""))


def _command(kind: str, option: str, form: str, doc: str) -> None:
    def command(period: str = typer.Option(..., option, help=form), region: str | None = RegionOpt,
                unit: str | None = UnitOpt, output: Path = OutputOpt, json_out: Path | None = JsonOpt,
                html_out: Path | None = HtmlOpt, plan: Path | None = PlanOpt, coverage_m: float = CoverageOpt,
                today: str | None = TodayOpt, by: str = ByOpt, ledger: str | None = LedgerOpt) -> None:
        _write(period, kind, region, unit, output, json_out, html_out, plan, coverage_m, today, by, ledger)

    command.__doc__ = doc
    report_app.command(kind)(command)


for _kind, _option, _form, _doc in (
        ("monthly", "--month", "YYYY-MM", "The monthly report (due by the 20th of the next month)."),
        ("quarterly", "--quarter", "YYYYQn", "The quarterly analysis (due by the 20th of the month after)."),
        ("half-year", "--half", "YYYYHn", "The half-year analysis (due by the 20th of the month after)."),
        ("annual", "--year", "YYYY", "The annual summary (due by 20 December of the year).")):
    _command(_kind, _option, _form, _doc)


@report_app.command("due")
def due_cmd(region: str | None = RegionOpt, unit: str | None = UnitOpt, today: str | None = TodayOpt,
            as_json: bool = typer.Option(False, "--json", help="Print JSON."),
            ledger: str | None = LedgerOpt) -> None:
    """Reports due or late (not yet issued), by due date."""
    from pipeline.assessment.data import Area
    from pipeline.assessment.period import china_today
    from pipeline.cli.clues import _day
    from pipeline.ledger import Ledger
    from pipeline.reporting.issued import due_reports

    day = _day(today, "--today") or china_today()
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        rows = led.read(lambda c: due_reports(c, day, Area(region=region, unit=unit)))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"nothing due or late on {day}")
    for r in rows:
        late = f"LATE by {r['days_late']} day(s)" if r["state"] == "late" else "due"
        typer.echo(f"{r['kind']:<10} {r['label']:<8} {r['title_zh']:<12} due {r['due']}  {late}")
