"""What one run of a pair is made of: the request, the validated plan, the analysis, the report.

Plain data shared by :mod:`pipeline.runner` (the stages), :mod:`pipeline.outputs` (the run
folder) and the Prefect flows; no stage logic lives here.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd

from pipeline.rundirs import run_name

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; called from long steps."""


@dataclass(frozen=True)
class PairRequest:
    """Everything a run of one pair needs, as a user gives it."""

    before: Path
    after: Path
    zones: Path
    approvals: Path | None = None
    sensor: str | None = None
    before_date: date | None = None
    after_date: date | None = None
    ledger_url: str = ""
    out_dir: Path | None = None
    region: str = "adhoc"
    region_code: str | None = None
    detector: str | None = None
    threshold: float | None = None
    min_area_m2: float | None = None
    min_overlap: float = 0.2
    column_map: Path | None = None
    block_size: int | None = None  # None: the detector's window (results do not depend on it)
    #: the footprint (MGRS tile ``50RPV``...) in a region of several tiles; ``""`` otherwise
    tile: str = ""


@dataclass
class PairPlan:
    request: PairRequest
    before: Any  # pipeline.io.tiles.Tile
    after: Any
    grid: Any  # pipeline.grid.Grid
    zones: gpd.GeoDataFrame
    approvals: gpd.GeoDataFrame | None
    detector: Any  # models.base.Detector
    params: Any  # pipeline.detect.DetectParams
    roles: tuple[str, ...]
    before_hash: str
    after_hash: str
    pair_key: str  # what was compared: tiles, detector, parameters, zones, approvals, region
    parameters: dict[str, Any] = field(default_factory=dict)
    analysis_key: str = ""  # the same without the region: the analysis cache's key

    @property
    def run_name(self) -> str:
        return run_name(self.before.acquired, self.after.acquired, self.pair_key)


@dataclass
class Analysis:
    workdir: Path
    detection: Any  # pipeline.detect.Detection
    leads: gpd.GeoDataFrame
    approved: gpd.GeoDataFrame
    seconds: float
    started_at: datetime


@dataclass
class RunReport:
    region: str
    before: str
    after: str
    before_date: str
    after_date: str
    pair_key: str
    skipped: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    approved: int = 0
    patches: int = 0
    out_dir: str | None = None
    run_id: int | None = None
    leads: list[dict[str, Any]] = field(default_factory=list)
    clouds: dict[str, Any] | None = None  # share/km2 of the overlap lost to clouds (pipeline.clouds)
    tile: str = ""  # the footprint, in a region of several tiles

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str)
