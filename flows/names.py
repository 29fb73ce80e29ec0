"""Readable run names in the Prefect UI: ``nanjing 2000-05-03→2002-07-12``.

A region run is named after the region and the span of its successive tiles, a pair run and
its tasks after the region and the pair's two dates. Names are worked out from the run's
parameters; anything that cannot be read yet (a bad region folder fails in the run itself, with
its own message) falls back to the folder or file names.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any


def pair_title(region: str, before: date | str | None, after: date | str | None) -> str:
    """``"<region> <before>→<after>"`` (``?`` for a date not known)."""
    return f"{region} {_day(before)}→{_day(after)}"


def _day(value: date | str | None) -> str:
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value else "?"


def _file_date(path: Any, given: Any) -> date | str | None:
    if given:
        return given
    from pipeline.io.dates import date_from_name

    hit = date_from_name(Path(str(path)).name)
    return hit[0] if hit else None


def region_run_name() -> str:
    """Name of a ``monitor-region`` run (called by Prefect with the run's parameters)."""
    from prefect.runtime import flow_run

    folder = Path(str(flow_run.parameters.get("region_dir", "region")))
    from pipeline.errors import LandpatrolError
    from pipeline.region import load_region

    try:
        region = load_region(folder)
    except (LandpatrolError, OSError):
        return folder.name
    if not region.tiles:
        return region.name
    return pair_title(region.name, region.tiles[0].acquired, region.tiles[-1].acquired)


def pair_run_name() -> str:
    """Name of a ``detect-changes`` run."""
    from prefect.runtime import flow_run

    p = flow_run.parameters
    before = _file_date(p.get("before"), p.get("before_date"))
    after = _file_date(p.get("after"), p.get("after_date"))
    return pair_title(str(p.get("region") or "adhoc"), before, after)


def task_name(stage: str):
    """``task_run_name`` for a pair task taking a ``request`` or a ``plan``."""

    def name(parameters: dict[str, Any]) -> str:
        plans = parameters.get("plans") or []
        plan = parameters.get("plan") or (plans[0] if plans else None)
        if plan is not None:
            req = plan.request
            where = f"{req.region} {len(plans)} tiles" if len(plans) > 1 else _where(req)
            return f"{stage} {pair_title(where, plan.before.acquired, plan.after.acquired)}"
        req = parameters.get("request")
        if req is None:
            return stage
        before, after = _file_date(req.before, req.before_date), _file_date(req.after, req.after_date)
        return f"{stage} {pair_title(_where(req), before, after)}"

    return name


def _where(req: Any) -> str:
    """The region, and the tile in a region of several (``nanjing 50RPV``)."""
    tile = getattr(req, "tile", "")
    return f"{req.region} {tile}" if tile else str(req.region)
