"""``landpatrol run``: one pair of tiles to leads, without Prefect."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError


def parse_date(value: str | None, option: str):
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ConfigError(option, f"{value!r} is not a date (use YYYY-MM-DD)")


@app.command("run")
def run_command(
    before: Path = typer.Option(..., "--before", help="Earlier tile: a raster or a folder of band files."),
    after: Path = typer.Option(..., "--after", help="Later tile."),
    zones: Path = typer.Option(..., "--zones", help="Protected/patrol zones (GeoPackage, GeoJSON, Shapefile)."),
    approvals: Path | None = typer.Option(None, "--approvals", help="Approved land (批准用地) layer."),
    sensor: str | None = typer.Option(None, "--sensor", help="sentinel2, landsat-tm, landsat-etm, landsat-oli, rgb, rgbn (guessed when omitted)."),
    before_date: str | None = typer.Option(None, "--before-date", help="Acquisition date of --before (YYYY-MM-DD) when its metadata has none."),
    after_date: str | None = typer.Option(None, "--after-date", help="Acquisition date of --after."),
    ledger: str | None = LedgerOpt,
    out: Path | None = typer.Option(None, "--out", help="Folder for leads GeoPackage, score COG, quicklook and chips."),
    region: str = typer.Option("adhoc", "--region", help="Region name; its code prefixes lead codes."),
    detector: str | None = typer.Option(None, "--detector", help="auto (default: cva for multispectral, ensemble for RGB, irmad:ki coarser than 15 m), cva, gbm, irmad, ensemble or cnn; NAME:otsu|ki|gmm|spread adds a per-scene cut."),
    threshold: float | None = typer.Option(None, "--threshold", min=0.0, max=1.0, help="Score threshold (default: the detector's)."),
    min_area: float | None = typer.Option(None, "--min-area", min=0.0, help="Minimum mapping unit in m2."),
    min_overlap: float = typer.Option(0.2, "--min-overlap", min=0.0, max=1.0, help="Least shared fraction of the smaller tile."),
    column_map: Path | None = typer.Option(None, "--columns", help="YAML/JSON mapping of zone/approval column names."),
    as_json: bool = typer.Option(False, "--json", help="Print the run report as JSON."),
) -> None:
    """Compare two tiles and push changed patches inside zones into the ledger as leads."""
    from pipeline.cli.progress import progress_bar
    from pipeline.cli.report import print_report
    from pipeline.runner import PairRequest, run_pair

    request = PairRequest(
        before=before, after=after, zones=zones, approvals=approvals, sensor=sensor,
        before_date=parse_date(before_date, "--before-date"),
        after_date=parse_date(after_date, "--after-date"),
        ledger_url=ledger or default_ledger_url(), out_dir=out, region=region,
        detector=detector, threshold=threshold, min_area_m2=min_area, min_overlap=min_overlap,
        column_map=column_map,
    )
    with progress_bar(enabled=not as_json) as progress:
        report = run_pair(request, progress=progress)
    if as_json:
        typer.echo(report.to_json())
    else:
        print_report([report])
