"""Scheduled monitoring: one Prefect deployment with a cron schedule per region.

``schedules.yaml`` lists the regions an analyst monitors::

    ledger: sqlite:////srv/landpatrol/ledger.sqlite   # default for every region
    out: /srv/landpatrol/runs
    regions:
      - name: nanjing
        path: /srv/landpatrol/regions/nanjing          # region folder or STAC ItemCollection
        cron: "0 6 * * *"                              # every day at 06:00
        timezone: Asia/Shanghai
        workers: 4                                     # pairs at once on a LocalCluster
    dask: tcp://scheduler.example:8786                 # or: every region on this cluster

Periodic reports are scheduled the same way under ``reports:`` (flow ``periodic-reports``,
the previous month's report at each cron time)::

    reports:
      - name: county-monthly
        cron: "0 8 5 * *"                              # 08:00 on the 5th of each month
        out: /srv/landpatrol/reports
        region: nanjing                                # optional; unit: too

``landpatrol schedule schedules.yaml`` (or ``python -m flows.schedule schedules.yaml``) serves
them with :func:`prefect.serve`: the process stays up and starts a ``monitor-region`` run at each
cron time. Against a Prefect server (``PREFECT_API_URL``) the deployments and their runs show
in the Prefect UI; ``prefect.yaml`` at the repository root is the alternative for work pools.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.i18n import msg


@dataclass(frozen=True)
class RegionSchedule:
    name: str
    path: Path
    cron: str
    timezone: str
    ledger: str | None
    out: Path | None
    workers: int | None = None   # LocalCluster processes for the region's pairs
    dask: str | None = None      # address of a running Dask scheduler (wins over workers)


def load_schedules(path: Path) -> list[RegionSchedule]:
    """Parse and validate ``schedules.yaml``; every problem names the file."""
    import yaml
    from prefect.client.schemas.schedules import CronSchedule

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, msg("schedule.unreadable", detail=exc)) from None
    regions = doc.get("regions") or []
    if not regions and not doc.get("reports"):
        raise ConfigError(path, msg("schedule.no_regions"))
    out: list[RegionSchedule] = []
    for i, item in enumerate(regions):
        missing = [k for k in ("name", "path", "cron") if not item.get(k)]
        if missing:
            raise ConfigError(path, msg("schedule.region_lacks", n=i + 1, fields=", ".join(missing)))
        try:
            CronSchedule(cron=item["cron"], timezone=item.get("timezone", "Asia/Shanghai"))
        except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
            raise ConfigError(path, msg("schedule.bad_cron", name=item["name"], cron=repr(item["cron"]),
                                         detail=exc)) from None
        region_path = Path(item["path"])
        if not region_path.is_absolute():
            region_path = (Path(path).parent / region_path).resolve()
        ledger = item.get("ledger", doc.get("ledger"))
        out_dir = item.get("out", doc.get("out"))
        workers = item.get("workers", doc.get("workers"))
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ConfigError(path, f"region {item['name']}: workers {workers!r} is not a whole number >= 1")
        dask = item.get("dask", doc.get("dask"))
        out.append(RegionSchedule(item["name"], region_path, item["cron"],
                                  item.get("timezone", "Asia/Shanghai"), ledger,
                                  Path(out_dir) if out_dir else None, workers,
                                  str(dask) if dask else None))
    return out


@dataclass(frozen=True)
class ReportSchedule:
    name: str
    cron: str
    timezone: str
    ledger: str | None
    out: Path
    region: str | None = None
    unit: str | None = None


def load_report_schedules(path: Path) -> list[ReportSchedule]:
    """The ``reports:`` entries of ``schedules.yaml``, validated like the regions."""
    import yaml
    from prefect.client.schemas.schedules import CronSchedule

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, f"cannot read schedules ({exc})") from None
    out: list[ReportSchedule] = []
    for i, item in enumerate(doc.get("reports") or []):
        missing = [k for k in ("name", "cron") if not item.get(k)]
        if missing:
            raise ConfigError(path, f"report #{i + 1} lacks {', '.join(missing)}")
        tz = item.get("timezone", "Asia/Shanghai")
        try:
            CronSchedule(cron=item["cron"], timezone=tz)
        except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
            raise ConfigError(path, f"report {item['name']}: bad cron {item['cron']!r} ({exc})") from None
        folder = Path(item.get("out") or doc.get("reports_out") or "reports")
        if not folder.is_absolute():
            folder = (Path(path).parent / folder).resolve()
        out.append(ReportSchedule(item["name"], item["cron"], tz, item.get("ledger", doc.get("ledger")),
                                  folder, item.get("region"), item.get("unit")))
    return out


def report_deployments(schedules: list[ReportSchedule]) -> list[Any]:
    from prefect.schedules import Cron

    from flows.periodic_reports import periodic_reports

    return [
        periodic_reports.to_deployment(
            name=f"reports-{s.name}", schedule=Cron(s.cron, timezone=s.timezone),
            parameters={"ledger": s.ledger, "out": str(s.out), "region": s.region, "unit": s.unit},
            tags=["landpatrol", "reports"],
            description=f"Monthly report {s.name} ({s.cron}, {s.timezone})",
        )
        for s in schedules
    ]


def deployments(schedules: list[RegionSchedule]) -> list[Any]:
    from prefect.schedules import Cron

    from flows.monitor_region import monitor_region

    return [
        monitor_region.to_deployment(
            name=f"monitor-{s.name}",
            schedule=Cron(s.cron, timezone=s.timezone),
            parameters={"region_dir": str(s.path), "ledger": s.ledger,
                        "out": str(s.out) if s.out else None, "workers": s.workers,
                        "dask": s.dask},
            tags=["landpatrol", f"region:{s.name}"],
            description=f"Scheduled change monitoring of region {s.name} ({s.cron}, {s.timezone})",
        )
        for s in schedules
    ]


def serve_schedules(path: Path) -> None:  # pragma: no cover - blocks forever
    from prefect import serve

    serve(*deployments(load_schedules(path)), *report_deployments(load_report_schedules(path)))


if __name__ == "__main__":  # pragma: no cover
    serve_schedules(Path(sys.argv[1]))
