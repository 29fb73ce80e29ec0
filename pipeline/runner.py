"""One pair of tiles end to end, without Prefect: plan, analyse, commit.

The three stages are separate so the Prefect flow can run them as tasks (with retries on I/O
and caching of the analysis keyed on input content) while ``landpatrol run`` calls
:func:`run_pair` directly. ``plan_pair`` (:mod:`pipeline.planning`) reads and validates every
input and writes nothing; ``analyse_pair`` only writes into a scratch folder; ``commit_pair``
stages the run folder, records the run in one ledger transaction, then publishes the folder.

A run and its folder land together: with ``--out`` the run is recorded ``pending_outputs``
until its folder is published. A run stopped in between (killed, disk full) is completed by
the next run of the same pair, which publishes the folder instead of skipping the pair; a run
stopped before the ledger commit leaves the ledger as it was and no visible folder.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd

from pipeline.pairs import Analysis, PairPlan, PairRequest, Progress, RunReport
from pipeline.planning import check_out_dir, check_request, plan_pair, region_code

__all__ = ["Analysis", "PairPlan", "PairRequest", "Progress", "RunReport", "already_compared",
           "analyse_pair", "check_out_dir", "codes_for", "commit_pair", "plan_pair", "run_pair",
           "skipped_report", "with_dates"]


def analyse_pair(plan: PairPlan, workdir: Path, progress: Progress | None = None) -> Analysis:
    """Detect changes, vectorise patches and screen them against zones; writes only ``workdir``."""
    import time

    from pipeline.align import TileReader, check_pair_valid
    from pipeline.clouds import cloud_loss, pair_masks
    from pipeline.detect import detect_pair
    from pipeline.screening import screen_patches

    t0, started_at = time.perf_counter(), datetime.now(UTC)
    workdir.mkdir(parents=True, exist_ok=True)
    cb = None if progress is None else (lambda done, total: progress("detect", done, total))
    # Sentinel-2 L1C dates without a cloud layer get one (pipeline/clouds.py)
    cloud_b, cloud_a = pair_masks(plan.before, plan.after, plan.grid, num_threads=plan.params.workers,
                                  progress=progress)
    with TileReader(plan.before, plan.grid, plan.roles, clouds=cloud_b) as rb, \
            TileReader(plan.after, plan.grid, plan.roles, clouds=cloud_a) as ra:
        check_pair_valid(rb, ra, plan.grid)
        detection = detect_pair(rb, ra, plan.grid, plan.detector, workdir, plan.params, progress=cb)
        detection.scene["clouds"] = cloud_loss(rb, ra, plan.grid, plan.params.sample_pixels)
    patches = detection.patches
    # the effective minimum mapping unit on this grid (a Landsat pixel alone is 900 m2)
    mmu_m2 = plan.params.mmu_pixels(plan.grid.pixel_area) * plan.grid.pixel_area
    screening = screen_patches(patches, plan.zones, plan.approvals, min_area_m2=mmu_m2,
                               change_date=plan.after.acquired)
    leads, approved = screening.leads, screening.approved
    for frame in (leads, approved):
        frame["before_date"] = plan.before.acquired.isoformat()
        frame["after_date"] = plan.after.acquired.isoformat()
        frame["sensor"] = plan.before.sensor
    return Analysis(workdir, detection, leads, approved, time.perf_counter() - t0, started_at)


def _run_record(plan: PairPlan, analysis: Analysis, started_at: datetime) -> Any:
    from pipeline.ledger import RunRecord

    return RunRecord(
        region=region_code(plan.request),
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
        finished_at=datetime.now(UTC),
        patches_count=len(analysis.detection.patches),
        outputs_pending=plan.request.out_dir is not None,
        region_name=plan.request.region,
    )


def commit_pair(plan: PairPlan, analysis: Analysis, ledger_url: str,
                staged: Path | None = None) -> RunReport:
    """Stage the run folder, record the run (one transaction), publish the folder: the commit
    of a date window of one pair (:func:`pipeline.commit.commit_window`).

    A pair recorded before whose folder never got published (``pending_outputs``) is not
    recorded again: its folder is published now, with the codes the ledger gave its leads.
    ``staged``: the pair's folder staged already (:func:`pipeline.outputs.stage_outputs`).
    """
    from pipeline.commit import commit_window

    return commit_window([plan], [analysis], ledger_url, [staged])[0]


def _report(plan: PairPlan, analysis: Analysis | None, run_id: int | None, skipped: bool) -> RunReport:
    return RunReport(
        region=region_code(plan.request), before=str(plan.before.path), after=str(plan.after.path),
        before_date=plan.before.acquired.isoformat(), after_date=plan.after.acquired.isoformat(),
        pair_key=plan.pair_key, skipped=skipped, run_id=run_id,
        approved=0 if analysis is None else len(analysis.approved),
        patches=0 if analysis is None else len(analysis.detection.patches),
        clouds=None if analysis is None else analysis.detection.scene.get("clouds"),
        tile=plan.request.tile,
    )


def codes_for(leads: gpd.GeoDataFrame, touched: gpd.GeoDataFrame) -> list[str | None]:
    """The ledger code each lead row went to: of the leads the run sighted (``touched``, see
    :meth:`Ledger.run_leads`), the one whose sighting overlaps the row most."""
    if len(leads) == 0 or len(touched) == 0:
        return [None] * len(leads)
    rows = leads.geometry.reset_index(drop=True)
    mine = touched.to_crs(leads.crs).reset_index(drop=True)  # overlap areas in metres
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
            "approved_share", "reason", "centroid_lon", "centroid_lat", "score_mean"]
    cols = [c for c in keep if c in leads.columns]
    return json.loads(leads[cols].to_json(orient="records", force_ascii=False)) if len(leads) else []


def already_compared(plan: PairPlan, ledger_url: str) -> bool:
    """The pair was recorded, and its run folder published unless none is asked for."""
    from pipeline.ledger import Ledger

    if not Ledger.probe(ledger_url):  # no ledger yet: nothing was compared (the commit makes it)
        return False
    with Ledger.open(ledger_url) as ledger:
        state = ledger.run_state(plan.pair_key)
    if state is None:
        return False
    return not (state.pending and plan.request.out_dir is not None)


def skipped_report(plan: PairPlan) -> RunReport:
    return _report(plan, None, None, skipped=True)


def run_pair(request: PairRequest, progress: Progress | None = None) -> RunReport:
    """Plan, analyse and commit one pair. A pair already compared is skipped without work."""
    from pipeline.ledger import Ledger

    check_request(request)  # a bad file name or number fails before the ledger is touched
    Ledger.probe(request.ledger_url)  # an unreachable ledger fails before any work; none is made yet
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
