"""Prefect flow for one pair of tiles: ``detect_changes``.

Thin on purpose: each task wraps one stage of :mod:`pipeline.runner`. Reading inputs and
writing the ledger retry on transient I/O errors (never on bad input, which would fail the
same way again); the analysis is cached on the content of both tiles, the detector, its
parameters and the zones and approvals screened with (not the region), so re-running a flow
after a ledger outage, or for another region over the same tiles, does not recompute the scene.
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.names import pair_run_name, task_name
from pipeline.errors import InputError
from pipeline.runner import (
    Analysis,
    PairPlan,
    PairRequest,
    RunReport,
    already_compared,
    analyse_pair,
    commit_pair,
    plan_pair,
    skipped_report,
)

IO_RETRIES = 2
IO_RETRY_DELAYS: list[float] = [2, 10]


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry I/O hiccups (network shares, a locked ledger); never bad input."""
    try:
        state.result()
    except InputError:
        return False
    except Exception:
        return True
    return False


def cache_dir() -> Path:
    from pipeline import settings

    return settings.load().cache_root


def _analysis_key(context: Any, parameters: dict[str, Any]) -> str:
    plan: PairPlan = parameters["plan"]
    return f"landpatrol-analysis-{plan.analysis_key}"


@task(name="plan-pair", task_run_name=task_name("plan"), retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient, persist_result=False)
def plan_task(request: PairRequest) -> PairPlan:
    return plan_pair(request)


@task(name="analyse-pair", task_run_name=task_name("analyse"), cache_key_fn=_analysis_key, cache_expiration=timedelta(days=30),
      persist_result=True)
def analyse_task(plan: PairPlan) -> Analysis:
    workdir = cache_dir() / plan.analysis_key
    if workdir.exists():
        shutil.rmtree(workdir)
    return analyse_pair(plan, workdir)


def analysis_of(plan: PairPlan) -> Any:
    """``analyse_task`` as it should run for ``plan``: Prefect persists analyses across runs,
    and one whose scratch rasters are gone from the cache folder (it was cleaned) is no good
    (``_present`` would analyse again later, in the flow's process, one pair after another), so
    then the task refreshes its cache entry and runs where it is sent (a cluster's worker)."""
    if _has_scratch(cache_dir() / plan.analysis_key):
        return analyse_task
    return analyse_task.with_options(refresh_cache=True)


def _has_scratch(workdir: Path) -> bool:
    """Whether an analysis's rasters are still in its scratch folder ``workdir`` (the score
    COG is written last)."""
    from pipeline.detect import SCORE_FILE

    return (workdir / SCORE_FILE).is_file()


@task(name="stage-outputs", task_run_name=task_name("stage"), retries=IO_RETRIES,
      retry_delay_seconds=IO_RETRY_DELAYS, retry_condition_fn=retry_transient, persist_result=False)
def stage_task(plan: PairPlan, analysis: Analysis) -> Path | None:
    """The code-free part of the pair's run folder (rasters, overlays, full-resolution true
    colour), staged where the task runs: on a region's Dask workers, next to the analyses,
    instead of one pair after another in the flow's process; ``None`` without ``--out``."""
    from pipeline.outputs import stage_outputs

    out = plan.request.out_dir
    return None if out is None else stage_outputs(plan, _present(plan, analysis), out)


@task(name="record-run", task_run_name=task_name("record"), retries=IO_RETRIES, retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=retry_transient, persist_result=False)
def commit_task(plan: PairPlan, analysis: Analysis, ledger_url: str,
                staged: Path | None = None) -> RunReport:
    return commit_pair(plan, _present(plan, analysis), ledger_url, staged)


@task(name="record-window", task_run_name=task_name("record"), retries=IO_RETRIES,
      retry_delay_seconds=IO_RETRY_DELAYS, retry_condition_fn=retry_transient, persist_result=False)
def commit_window_task(plans: list[PairPlan], analyses: list[Analysis], ledger_url: str,
                       staged: list[Path | None] | None = None) -> list[RunReport]:
    """The pairs of one date window (several tiles): joined, recorded in one transaction."""
    from pipeline.commit import commit_window

    return commit_window(plans, [_present(p, a) for p, a in zip(plans, analyses)], ledger_url, staged)


def _present(plan: PairPlan, analysis: Analysis) -> Analysis:
    if not _has_scratch(analysis.workdir):  # cache entry outlived its scratch files
        return analyse_pair(plan, analysis.workdir)
    return analysis


@flow(name="detect-changes", flow_run_name=pair_run_name, log_prints=True, validate_parameters=True)
def detect_changes(
    before: Path,
    after: Path,
    zones: Path,
    approvals: Path | None = None,
    ledger: str | None = None,
    out: Path | None = None,
    region: str = "adhoc",
    region_code: str | None = None,
    sensor: str | None = None,
    before_date: date | None = None,
    after_date: date | None = None,
    detector: str | None = None,
    threshold: float | None = None,
    min_area_m2: float | None = None,
    min_overlap: float = 0.2,
    column_map: Path | None = None,
) -> dict[str, Any]:
    """Compare two tiles, screen changed patches against zones and approvals, record leads."""
    from pipeline.cli.options import default_ledger_url

    ledger_url = ledger or default_ledger_url()
    request = PairRequest(
        before=Path(before), after=Path(after), zones=Path(zones),
        approvals=Path(approvals) if approvals else None, sensor=sensor,
        before_date=before_date, after_date=after_date, ledger_url=ledger_url,
        out_dir=Path(out) if out else None, region=region, region_code=region_code,
        detector=detector, threshold=threshold, min_area_m2=min_area_m2,
        min_overlap=min_overlap, column_map=Path(column_map) if column_map else None,
    )
    return run_request(request).__dict__


def run_request(request: PairRequest) -> RunReport:
    """The body of ``detect_changes``, callable from another flow as plain tasks; publishes the
    pair's lead table and summary (:mod:`flows.artifacts`)."""
    from flows.artifacts import publish_pair

    logger = get_run_logger()
    plan = plan_task(request)
    if already_compared(plan, request.ledger_url):
        logger.info("pair %s / %s already compared; nothing to add", plan.before.path,
                    plan.after.path)
        skipped = skipped_report(plan)
        publish_pair(plan, skipped)
        return skipped
    analysis = analysis_of(plan)(plan)
    report = commit_task(plan, analysis, request.ledger_url)
    logger.info("%s -> %s: %d new lead(s), %d updated, %d approved change(s)",
                report.before_date, report.after_date, len(report.created), len(report.updated),
                report.approved)
    publish_pair(plan, report)
    return report
