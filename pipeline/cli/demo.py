"""``landpatrol demo``: the region flow on the shipped Nanjing demo region."""
from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.main import app

DEMO_REGION = Path(__file__).resolve().parents[2] / "data" / "demo" / "nanjing"


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Where the demo ledger and outputs go."),
) -> None:
    """Run the Nanjing demo (Landsat 5, 2000 vs 2002) and print the leads it finds."""
    from pipeline.cli.monitor import run_monitor
    from pipeline.cli.report import print_report
    from pipeline.errors import InputError

    if not DEMO_REGION.is_dir():
        raise InputError(DEMO_REGION, "demo region not found (is this a source checkout?)")
    out.mkdir(parents=True, exist_ok=True)
    ledger_file = (out / "ledger.sqlite").resolve()
    ledger_url = f"sqlite:///{ledger_file}"
    reports = run_monitor(DEMO_REGION, ledger_url, out.resolve())
    print_report(reports)
    typer.echo(f"ledger: {ledger_file}")
    typer.echo(f"export: landpatrol leads export --ledger {ledger_url} --format geojson "
               f"--output {out / 'leads.geojson'}")
