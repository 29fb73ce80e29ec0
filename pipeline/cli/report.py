"""Printing run reports as a leads table."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def print_report(reports: Sequence[Any], console: Console | None = None) -> None:
    import sys

    from pipeline.clouds import summary_line

    # Off a terminal (pipes, logs, CI) rich would wrap at 80 columns and cut lead codes.
    console = console or Console(width=None if sys.stdout.isatty() else 200)
    for rep in reports:
        tile = f" {rep.tile}" if getattr(rep, "tile", "") else ""
        head = f"[bold]{rep.region}[/]{tile} {rep.before_date} → {rep.after_date}: "
        if rep.skipped:
            console.print(head + "already compared, nothing added")
            continue
        console.print(head + f"{rep.patches} changed patch(es), {len(rep.created)} new lead(s), "
                      f"{len(rep.updated)} updated, {rep.approved} approved change(s)")
        if rep.leads:
            table = Table("code", "priority", "class", "area m2", "area mu", "level",
                          "approved", "lon", "lat")
            for lead in rep.leads:
                table.add_row(str(lead.get("code")), str(lead.get("priority")),
                              str(lead.get("change_class")), f"{lead.get('area_m2', 0):,.0f}",
                              f"{lead.get('area_mu', 0):.2f}", str(lead.get("zone_level")),
                              f"{100 * (lead.get('approved_share') or 0):.0f}%",
                              f"{lead.get('centroid_lon', 0):.5f}",
                              f"{lead.get('centroid_lat', 0):.5f}")
            console.print(table)
        clouds = summary_line(getattr(rep, "clouds", None))
        if clouds:
            console.print(clouds, markup=False)
        if rep.out_dir:
            console.print(f"outputs: {rep.out_dir}")
