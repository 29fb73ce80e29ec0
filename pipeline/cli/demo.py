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
    zones = _zone_codes(ledger_url)
    typer.echo(f"web app: add an account for a responsibility zone ({', '.join(zones)}; analysts "
               "need none), type its password (8+ characters) and press Enter, then serve and "
               "open http://127.0.0.1:8000/")
    typer.echo(f"  landpatrol users add zhangwei --role patrol --zones {zones[0] if zones else 'ZONE'} "
               f"--password-stdin --ledger {ledger_url}")
    typer.echo(f"  landpatrol serve --ledger {ledger_url} --runs {out}")


def _zone_codes(ledger_url: str) -> list[str]:
    """Codes of the ledger's responsibility zones (the demo region's ``patrol_zones.geojson``)."""
    from sqlalchemy import select

    from pipeline.ledger import Ledger
    from pipeline.ledger.schema_work import PatrolZone

    with Ledger.open(ledger_url) as led:
        return led.read(lambda c: list(c.execute(select(PatrolZone.code).order_by(PatrolZone.code)).scalars()))
