"""One pair of tiles end to end, without Prefect: plan, analyse, commit.

The three stages are separate so the Prefect flow can run them as tasks (with retries on I/O
and caching of the analysis keyed on input content) while ``landpatrol run`` calls
:func:`run_pair` directly. ``plan_pair`` reads and validates every input and the ledger before
anything heavy runs; ``analyse_pair`` only writes into a scratch folder; ``commit_pair`` writes
the ledger in one transaction and then moves the outputs into place. A run that fails at any
stage leaves the ledger and ``--out`` as they were.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import geopandas as gpd

from pipeline.errors import OutputError

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
    block_size: int = 1024


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
    pair_key: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def run_name(self) -> str:
        return f"{self.before.acquired:%Y%m%d}_{self.after.acquired:%Y%m%d}_{self.pair_key[:8]}"


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, default=str)


def _region_code(request: PairRequest) -> str:
    code = request.region_code or request.region
    return "".join(ch for ch in code.upper() if ch.isalnum() or ch == "-") or "ADHOC"


def check_out_dir(out_dir: Path) -> None:
    """Refuse an ``--out`` that cannot be created or written, before any work is done."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".landpatrol-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(out_dir, f"cannot write output folder ({exc.strerror or exc})") from None


def plan_pair(request: PairRequest) -> PairPlan:
    """Open and validate every input (tiles, zones, approvals, detector, params); write nothing."""
    from models.registry import check_detector_name, get_detector
    from pipeline.align import pair_grid
    from pipeline.detect import DetectParams
    from pipeline.io.tiles import open_tile, tile_hash
    from pipeline.ledger import pair_key as ledger_pair_key
    from pipeline.zones import load_approvals, load_column_map, load_zones

    if request.out_dir is not None:
        check_out_dir(request.out_dir)
    check_detector_name(request.detector)  # a wrong name fails before any tile is opened
    params = DetectParams(
        threshold=request.threshold,
        **({} if request.min_area_m2 is None else {"min_area_m2": request.min_area_m2}),
        block_size=request.block_size,
    )
    before = open_tile(request.before, sensor=request.sensor, acquired=request.before_date)
    after = open_tile(request.after, sensor=request.sensor, acquired=request.after_date)
    if after.acquired < before.acquired:  # the earlier tile is always "before"
        before, after = after, before
    roles = tuple(r for r in ("blue", "green", "red", "nir", "swir1", "swir2")
                  if r in before.bands and r in after.bands)
    grid = pair_grid(before, after, min_overlap=request.min_overlap)
    detector = get_detector(request.detector, grid.pixel_area ** 0.5)  # the grid is projected, in metres
    missing = sorted(detector.required_roles - set(roles))
    if missing:
        lacking = before if any(m not in before.bands for m in missing) else after
        from pipeline.errors import SensorError

        raise SensorError(lacking.path, f"tile lacks band(s) {', '.join(missing)} that detector "
                                        f"{detector.name!r} needs")
    columns = load_column_map(request.column_map) if request.column_map else None
    zones = load_zones(request.zones, columns=columns, target_crs=grid.crs)
    approvals = (load_approvals(request.approvals, columns=columns, target_crs=grid.crs)
                 if request.approvals else None)
    before_hash, after_hash = tile_hash(before), tile_hash(after)
    parameters = {
        "threshold": params.threshold if params.threshold is not None else detector.threshold,
        "min_area_m2": params.min_area_m2,
        "min_overlap": request.min_overlap,
        "sensor": before.sensor,
    }
    pair_key = ledger_pair_key(before_hash, after_hash, detector.name, detector.version,
                               parameters)
    return PairPlan(request, before, after, grid, zones, approvals, detector, params, roles,
                    before_hash, after_hash, pair_key, parameters)


def analyse_pair(plan: PairPlan, workdir: Path, progress: Progress | None = None) -> Analysis:
    """Detect changes, vectorise patches and screen them against zones; writes only ``workdir``."""
    import time

    from pipeline.align import TileReader, check_pair_valid
    from pipeline.detect import detect_pair
    from pipeline.screening import screen_patches

    t0, started_at = time.perf_counter(), datetime.now(timezone.utc)
    workdir.mkdir(parents=True, exist_ok=True)
    cb = None if progress is None else (lambda done, total: progress("detect", done, total))
    with TileReader(plan.before, plan.grid, plan.roles) as rb, \
            TileReader(plan.after, plan.grid, plan.roles) as ra:
        check_pair_valid(rb, ra, plan.grid)
        detection = detect_pair(rb, ra, plan.grid, plan.detector, workdir, plan.params, progress=cb)
    patches = detection.patches
    # the effective minimum mapping unit on this grid (a Landsat pixel alone is 900 m2)
    mmu_m2 = plan.params.mmu_pixels(plan.grid.pixel_area) * plan.grid.pixel_area
    screening = screen_patches(patches, plan.zones, plan.approvals, min_area_m2=mmu_m2)
    leads, approved = screening.leads, screening.approved
    for frame in (leads, approved):
        frame["before_date"] = plan.before.acquired.isoformat()
        frame["after_date"] = plan.after.acquired.isoformat()
        frame["sensor"] = plan.before.sensor
    return Analysis(workdir, detection, leads, approved, time.perf_counter() - t0, started_at)


def _run_record(plan: PairPlan, analysis: Analysis, started_at: datetime) -> Any:
    from pipeline.ledger import RunRecord

    req = plan.request
    return RunRecord(
        region=_region_code(req),
        before_path=str(plan.before.path),
        before_hash=plan.before_hash,
        before_date=plan.before.acquired,
        after_path=str(plan.after.path),
        after_hash=plan.after_hash,
        after_date=plan.after.acquired,
        detector_name=plan.detector.name,
        detector_version=plan.detector.version,
        parameters=plan.parameters,
        scene_params=analysis.detection.scene,
        before_sensor=plan.before.sensor,
        after_sensor=plan.after.sensor,
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
        patches_count=len(analysis.detection.patches),
    )


def commit_pair(plan: PairPlan, analysis: Analysis, ledger_url: str) -> RunReport:
    """Record the run in the ledger (one transaction), then put the evidence under ``--out``."""
    from pipeline.ledger import Ledger
    from pipeline.outputs import write_run_outputs

    req = plan.request
    ledger = Ledger.open(ledger_url)
    try:
        record = _run_record(plan, analysis, analysis.started_at)
        outcome = ledger.record_run(record, analysis.leads, analysis.approved)
        report = RunReport(
            region=_region_code(req), before=str(plan.before.path), after=str(plan.after.path),
            before_date=plan.before.acquired.isoformat(), after_date=plan.after.acquired.isoformat(),
            pair_key=plan.pair_key, skipped=outcome.skipped, created=list(outcome.created),
            updated=list(outcome.updated), approved=len(analysis.approved),
            patches=len(analysis.detection.patches), run_id=outcome.run_id,
        )
        leads = analysis.leads.copy()
        if not outcome.skipped:
            leads["code"] = codes_for(leads, ledger.leads_frame(region=record.region),
                                      outcome.run_id)
        report.leads = _lead_rows(leads)
        if req.out_dir is not None and not outcome.skipped:
            written = write_run_outputs(plan, analysis, leads, req.out_dir / plan.run_name)
            report.out_dir = str(written)
        return report
    finally:
        ledger.close()


def codes_for(leads: gpd.GeoDataFrame, recorded: gpd.GeoDataFrame, run_id: int) -> list[str | None]:
    """The ledger code each lead row went to: the lead this run touched that it overlaps most.

    A row either created a lead or updated an open one; either way that lead's ``last_run_id``
    is this run and its geometry overlaps the row's.
    """
    mine = recorded[recorded["last_run_id"] == run_id]
    if len(leads) == 0 or len(mine) == 0:
        return [None] * len(leads)
    rows = leads.geometry.reset_index(drop=True)
    mine = mine.to_crs(leads.crs).reset_index(drop=True)  # overlap areas in metres
    tree = mine.sindex
    codes: list[str | None] = []
    for geom in rows:
        hits = tree.query(geom, predicate="intersects")
        if len(hits) == 0:
            codes.append(None)
            continue
        overlap = mine.geometry.iloc[hits].intersection(geom).area.to_numpy()
        codes.append(str(mine["code"].iloc[hits[overlap.argmax()]]))
    return codes


def _lead_rows(leads: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    keep = ["code", "patch_id", "priority", "area_m2", "area_mu", "change_class", "zone_level",
            "approved_share", "centroid_lon", "centroid_lat", "score_mean"]
    cols = [c for c in keep if c in leads.columns]
    return json.loads(leads[cols].to_json(orient="records", force_ascii=False)) if len(leads) else []


def already_compared(plan: PairPlan, ledger_url: str) -> bool:
    from pipeline.ledger import Ledger

    ledger = Ledger.open(ledger_url)
    try:
        return ledger.is_compared(plan.pair_key)
    finally:
        ledger.close()


def skipped_report(plan: PairPlan) -> RunReport:
    req = plan.request
    return RunReport(region=_region_code(req), before=str(plan.before.path),
                     after=str(plan.after.path), before_date=plan.before.acquired.isoformat(),
                     after_date=plan.after.acquired.isoformat(), pair_key=plan.pair_key,
                     skipped=True)


def run_pair(request: PairRequest, progress: Progress | None = None) -> RunReport:
    """Plan, analyse and commit one pair. A pair already compared is skipped without work."""
    from pipeline.ledger import Ledger

    Ledger.open(request.ledger_url).close()  # unreachable ledger fails before any work
    plan = plan_pair(request)
    if already_compared(plan, request.ledger_url):
        return skipped_report(plan)
    scratch = Path(tempfile.mkdtemp(prefix="landpatrol-"))
    try:
        analysis = analyse_pair(plan, scratch / "work", progress)
        return commit_pair(plan, analysis, request.ledger_url)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def with_dates(request: PairRequest, before: date | None, after: date | None) -> PairRequest:
    return replace(request, before_date=before, after_date=after)
