"""Prefect flow for a region: ``monitor_region`` compares every new pair of successive tiles.

A region is a folder (or STAC ItemCollection JSON) of dated tiles plus its zones
(:mod:`pipeline.region`). Pairs are processed in date order; a pair already recorded in the
ledger is skipped, so a scheduled run only does the work new tiles brought.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.detect_changes import retry_transient, run_request
from pipeline.region import Region, load_region, successive_pairs
from pipeline.runner import PairRequest


@task(name="load-region", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_transient)
def load_region_task(path: Path) -> Region:
    return load_region(path)


def column_map_path(region: Region) -> Path | None:
    """``columns:`` in region.yaml, relative to the region folder."""
    value = (region.config or {}).get("columns")
    if not value:
        return None
    path = Path(value)
    base = region.root if region.root.is_dir() else region.root.parent
    return path if path.is_absolute() else base / path


def pair_requests(region: Region, ledger_url: str, out: Path | None) -> list[PairRequest]:
    """One request per successive pair, with the region's zones, approvals and settings."""
    cfg = region.config or {}
    requests = []
    for before, after in successive_pairs(region):
        requests.append(PairRequest(
            before=Path(before.path), after=Path(after.path), zones=region.zones_path,
            approvals=region.approvals_path, sensor=before.sensor or region.sensor,
            before_date=before.acquired, after_date=after.acquired, ledger_url=ledger_url,
            out_dir=out, region=region.name, region_code=region.code,
            detector=cfg.get("detector"), threshold=cfg.get("threshold"),
            min_area_m2=cfg.get("min_area_m2"), min_overlap=cfg.get("min_overlap", 0.2),
            column_map=column_map_path(region),
        ))
    return requests


@flow(name="monitor-region", log_prints=True, validate_parameters=True)
def monitor_region(region_dir: Path, ledger: str | None = None,
                   out: Path | None = None) -> list[dict[str, Any]]:
    """Run ``detect_changes`` on every successive pair of the region not yet compared."""
    from pipeline.cli.options import default_ledger_url

    logger = get_run_logger()
    ledger_url = ledger or default_ledger_url()
    region = load_region_task(Path(region_dir))
    requests = pair_requests(region, ledger_url, Path(out) if out else None)
    logger.info("region %s: %d tile(s), %d successive pair(s)", region.name, len(region.tiles),
                len(requests))
    reports = [run_request(req).__dict__ for req in requests]
    return reports
