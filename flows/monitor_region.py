"""Prefect flow for a region: ``monitor_region`` compares every new pair of successive tiles.

A region is a folder (or STAC ItemCollection JSON) of dated tiles plus its zones
(:mod:`pipeline.region`). Pairs are processed in date order; a pair already recorded in the
ledger is skipped, so a scheduled run only does the work new tiles brought. The region's
responsibility zones (``patrol_zones.*``) are put into the ledger first, so the leads a run
creates are assigned to the team of the zone that holds them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from sqlalchemy import select

from flows.detect_changes import retry_transient, run_request
from flows.names import region_run_name
from pipeline.errors import ZoneError
from pipeline.region import Region, load_region, successive_pairs
from pipeline.runner import PairRequest

#: columns a responsibility-zone layer needs (``name``, ``unit`` are optional)
PATROL_ZONE_COLUMNS = ("code", "level", "persons")


@task(name="load-region", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_transient)
def load_region_task(path: Path) -> Region:
    return load_region(path)


def upsert_patrol_zones(ledger_url: str, region: Region, by: str = "monitor-region") -> list[str]:
    """Bring the ledger's responsibility zones in line with the region's layer (by ``code``):
    add the zones it lacks, update those whose outline, level, persons, name or unit changed
    (each change an event); returns the codes added or updated. A rerun on an unchanged layer
    writes nothing. The layer is checked whole before anything is written."""
    import geopandas as gpd

    from pipeline.ledger import Ledger
    from pipeline.ledger.schema_work import PatrolZone

    path = region.patrol_zones_path
    if path is None:
        return []
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError, among others
        raise ZoneError(path, f"cannot read responsibility zones ({exc.__class__.__name__})") from exc
    missing = [c for c in PATROL_ZONE_COLUMNS if c not in frame.columns]
    if missing:
        raise ZoneError(path, f"responsibility zones need columns {', '.join(missing)}")
    if frame.crs is None:
        raise ZoneError(path, "responsibility-zone layer has no CRS")
    frame = frame.to_crs(4326)
    codes = [str(c).strip() for c in frame["code"]]
    if any(not c for c in codes) or len(set(codes)) != len(codes):
        raise ZoneError(path, "every responsibility zone needs its own non-empty code")
    for code, level, persons in zip(codes, frame["level"], frame["persons"]):
        if not _text(persons):
            raise ZoneError(path, f"responsibility zone {code} names no persons")
        if not _whole(level):
            raise ZoneError(path, f"responsibility zone {code}: level {level!r} is not a whole number")
    with Ledger.open(ledger_url) as led:
        known = led.read(lambda c: set(c.execute(select(PatrolZone.code)).scalars()))
        added = []
        for code, row in zip(codes, frame.to_dict("records")):
            if code in known:
                if led.update_patrol_zone(code=code, by=by, geometry=row["geometry"],
                                          level=int(float(row["level"])),
                                          persons=str(row["persons"] or ""),
                                          name=_text(row.get("name")), unit=_text(row.get("unit"))):
                    added.append(code)
                continue
            led.add_patrol_zone(code=code, geometry=row["geometry"], level=int(float(row["level"])),
                                persons=str(row["persons"] or ""), by=by,
                                name=_text(row.get("name")), unit=_text(row.get("unit")),
                                region=region.name)
            added.append(code)
    return added


def _whole(value: Any) -> bool:
    try:
        return float(value) == int(float(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    return None if value is None or value != value or not str(value).strip() else str(value).strip()


@task(name="patrol-zones", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_transient)
def patrol_zones_task(ledger_url: str, region: Region) -> list[str]:
    return upsert_patrol_zones(ledger_url, region)


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
    several = bool(region.tile_ids)
    requests = []
    for before, after in successive_pairs(region):
        requests.append(PairRequest(
            before=Path(before.path), after=Path(after.path), zones=region.zones_path,
            approvals=region.approvals_path, sensor=before.sensor or region.sensor,
            before_date=before.acquired, after_date=after.acquired, ledger_url=ledger_url,
            out_dir=out, region=region.name, region_code=region.code,
            detector=cfg.get("detector"), threshold=cfg.get("threshold"),
            min_area_m2=cfg.get("min_area_m2"), min_overlap=cfg.get("min_overlap", 0.2),
            column_map=column_map_path(region), tile=after.tile if several else "",
        ))
    return requests


@flow(name="monitor-region", flow_run_name=region_run_name, log_prints=True,
      validate_parameters=True)
def monitor_region(region_dir: Path, ledger: str | None = None, out: Path | None = None,
                   workers: int | None = None, dask: str | None = None) -> list[dict[str, Any]]:
    """Run ``detect_changes`` on every successive pair of the region not yet compared; the
    pairs of a date window of several tiles are joined and recorded together (flows.windows).

    With several pairs the pairs run in parallel on a Dask cluster (:mod:`flows.cluster`): a
    LocalCluster of ``workers`` processes (default: the cores, at most 4), or the running
    scheduler at ``dask``; ``workers=1`` without ``dask`` runs them one after another here.
    """
    from pipeline.cli.options import default_ledger_url

    logger = get_run_logger()
    ledger_url = ledger or default_ledger_url()
    region = load_region_task(Path(region_dir))
    added = patrol_zones_task(ledger_url, region)
    if added:
        logger.info("responsibility zones added to the ledger: %s", ", ".join(added))
    requests = pair_requests(region, ledger_url, Path(out) if out else None)
    logger.info("region %s: %d tile(s), %d successive pair(s)", region.name, len(region.tiles),
                len(requests))
    if dask or (len(requests) > 1 and workers != 1):
        from flows.cluster import run_on_cluster

        return run_on_cluster(requests, workers, dask)
    from flows.windows import compare_windows, windows

    reports: list[dict[str, Any]] = []
    for group in windows(requests):  # a window of several tiles is joined before it is recorded
        todo = [requests[i] for i in group]
        reports += [run_request(todo[0]).__dict__] if len(todo) == 1 else compare_windows(todo, False)
    return reports
