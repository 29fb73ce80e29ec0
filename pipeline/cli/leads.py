"""``landpatrol leads ...``: leads out of the ledger (export, a quick table)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.main import leads_app
from pipeline.cli.options import LedgerOpt, default_ledger_url


@leads_app.command("export")
def export_cmd(
    output: Path = typer.Option(..., "--output", "-o", help="File to write.", dir_okay=False),
    fmt: str = typer.Option("geojson", "--format", "-f",
                            help="geojson (EPSG:4326, RFC 7946) | gpkg (with QGIS styles) | "
                                 "csv (UTF-8 with BOM, WKT + lon/lat) | xlsx."),
    ledger: Optional[str] = LedgerOpt,
    status: Optional[str] = typer.Option(None, "--status", help="Only leads in this status."),
    region: Optional[str] = typer.Option(None, "--region", help="Only leads of this region."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh | en: language of CSV/XLSX headers "
                                       "and style labels (default $LANDPATROL_LANG, else zh)."),
) -> None:
    """Write the ledger's leads to a GeoJSON, GeoPackage, CSV or XLSX file."""
    from pipeline.errors import ConfigError, OutputError
    from pipeline.i18n import LANGS, msg
    from pipeline.io.export import FORMATS, export_leads
    from pipeline.ledger import Ledger

    if fmt.lower() not in FORMATS:
        raise OutputError(output, msg("output.unknown_format", fmt=fmt, formats=", ".join(FORMATS)))
    if lang is not None and lang not in LANGS:
        raise ConfigError("--lang", msg("input.bad_lang", lang=lang, langs=", ".join(LANGS)))
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        frame = led.leads_frame(region=None if region is None else led.resolve_region(region),
                                status=status)
    written = export_leads(frame, output, fmt, overwrite=overwrite, lang=lang)
    typer.echo(f"{len(frame)} lead(s) written to {written}")


@leads_app.command("list")
def list_cmd(
    ledger: Optional[str] = LedgerOpt,
    status: Optional[str] = typer.Option(None, "--status", help="Only leads in this status."),
    region: Optional[str] = typer.Option(None, "--region", help="Only leads of this region."),
    limit: int = typer.Option(50, "--limit", help="Show at most this many (most urgent first)."),
) -> None:
    """Show the ledger's leads as a table, most urgent first."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.ledger import Ledger

    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        frame = led.leads_frame(region=None if region is None else led.resolve_region(region),
                                status=status)
    frame = frame.sort_values(["priority", "area_m2"], ascending=[True, False], na_position="last")
    table = Table(title=f"{len(frame)} lead(s)")
    width = max([len(c) for c in frame["code"]] + [4])
    table.add_column("code", no_wrap=True, min_width=width)
    for col in ("status", "priority", "class", "area m2", "area mu", "zone level",
                "first seen", "last seen", "seen", "lon, lat"):
        table.add_column(col)
    for r in frame.head(limit).itertuples():
        table.add_row(r.code, r.status, _s(r.priority), _s(r.change_class), f"{r.area_m2:.0f}",
                      f"{r.area_mu:.2f}", _s(r.zone_level), str(r.first_seen), str(r.last_seen),
                      str(r.seen_count), f"{r.centroid_lon:.5f}, {r.centroid_lat:.5f}")
    Console().print(table)


def _s(value: object) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
