"""``landpatrol schedule``: serve one cron-scheduled ``monitor-region`` deployment per region."""
from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.main import app


@app.command("schedule")
def schedule_command(
    schedules: Path = typer.Argument(..., help="schedules.yaml listing regions and cron times."),
    check: bool = typer.Option(False, "--check", help="Validate the file and list the deployments, then exit."),
) -> None:
    """Keep running and start the region flow at each region's cron time (Prefect serve)."""
    from flows.schedule import load_schedules, serve_schedules

    items = load_schedules(schedules)
    for s in items:
        typer.echo(f"monitor-{s.name}: {s.path} at '{s.cron}' ({s.timezone})")
    if not check:
        serve_schedules(schedules)
