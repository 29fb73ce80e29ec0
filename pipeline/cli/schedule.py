"""``landpatrol schedule``: serve one cron-scheduled ``monitor-region`` deployment per region."""
from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.main import app


@app.command("schedule")
def schedule_command(
    schedules: Path = typer.Argument(..., help="schedules.yaml listing regions and cron times."),
    check: bool = typer.Option(False, "--check", help="Check the file and every region's paths "
                               "and files (region.yaml, tiles, zones, approvals, responsibility "
                               "zones, ledger and out folders), list the deployments, then exit."),
) -> None:
    """Keep running and start the region flow at each region's cron time (Prefect serve)."""
    from flows.schedule import load_schedules, serve_schedules

    items = load_schedules(schedules)
    if check:
        _check(items)
        return
    for s in items:
        typer.echo(f"monitor-{s.name}: {s.path} at '{s.cron}' ({s.timezone})")
    serve_schedules(schedules)


def _check(items: list) -> None:
    """One line per region (and per problem); exit 2 when anything would fail at run time."""
    from pipeline.cli.options import error_line
    from pipeline.regioncheck import check_destinations, check_region

    failed = 0
    for s in items:
        region, problems = check_region(s.path)
        problems += check_destinations(s.ledger, s.out)
        tiles = f", {len(region.tiles)} tile(s)" if region is not None else ""
        state = "ok" if not problems else f"{len(problems)} problem(s)"
        typer.echo(f"monitor-{s.name}: {s.path} at '{s.cron}' ({s.timezone}){tiles}: {state}")
        for problem in problems:
            typer.echo(f"  {error_line(problem)}", err=True)
        failed += bool(problems)
    if failed:
        raise typer.Exit(code=2)
