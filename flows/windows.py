"""A region's pairs by date window: plan and analyse each pair, commit each window once.

A window is the pairs of one ``(before, after)`` date pair: one pair in a region of one
footprint, one per tile in a region of several (Sentinel-2 MGRS tiles). Every pair is planned
and analysed as its own Prefect task (on the Dask workers when ``parallel``), and the heavy,
code-free part of its run folder is staged by another task there; each window is then
committed by one task in this process, in date order: its tiles' patches joined across
tile edges and overlaps and recorded in one ledger transaction (:mod:`pipeline.commit`). A
window whose pairs were all recorded is skipped without work; a tile new to a recorded window
(delivered late) is joined with the tiles recorded before (their analyses come from the cache
or are redone), and only its own changes are recorded, whole.
"""
from __future__ import annotations

from typing import Any

from prefect import get_run_logger

from flows.detect_changes import analysis_of, commit_task, commit_window_task, plan_task, stage_task
from pipeline.runner import PairRequest, RunReport, already_compared, skipped_report


def windows(requests: list[PairRequest]) -> list[list[int]]:
    """Indices of ``requests`` grouped by their two dates, in order of first appearance."""
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, req in enumerate(requests):
        groups.setdefault((req.before_date, req.after_date), []).append(i)
    return list(groups.values())


class _Done:
    """A result already computed, shaped like a Prefect future."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


def compare_windows(requests: list[PairRequest], parallel: bool) -> list[dict[str, Any]]:
    """Plan, analyse and commit ``requests`` window by window; one report dict per request.

    ``parallel``: submit plans and analyses to the flow's task runner (a Dask cluster); else
    run them here one after another.
    """
    from flows.artifacts import publish_pair
    from pipeline.tilejoin import check_window

    logger = get_run_logger()

    def call(task: Any, *args: Any) -> Any:
        return task.submit(*args) if parallel else _Done(task(*args))

    groups = windows(requests)
    planned = [call(plan_task, req) for req in requests]
    plans = [p.result() for p in planned]
    for group in groups:  # every window is checked before any analysis starts
        check_window([plans[i] for i in group])
    compared = [already_compared(plan, req.ledger_url) for req, plan in zip(requests, plans)]
    for group in groups:  # a tile new to a recorded window is joined with the tiles recorded
        if not all(compared[i] for i in group):
            for i in group:
                compared[i] = False
    analyses = [None if done else call(analysis_of(plan), plan) for done, plan in zip(compared, plans)]
    # each run folder's heavy, code-free part is staged where its analysis ran (the workers),
    # not here one pair after another; the commits below add what names the ledger's codes
    stagings = [None if a is None else call(stage_task, plan, a if parallel else a.result())
                for plan, a in zip(plans, analyses)]
    reports: list[RunReport | None] = [None] * len(requests)
    for group in groups:
        todo = {i: a.result() for i in group if (a := analyses[i]) is not None}
        staged = {i: s.result() for i in todo if (s := stagings[i]) is not None}
        if len(todo) == 1:
            (i, analysis), = todo.items()
            reports[i] = commit_task(plans[i], analysis, requests[i].ledger_url, staged.get(i))
        elif todo:
            done = commit_window_task([plans[i] for i in todo], list(todo.values()),
                                      requests[group[0]].ledger_url, [staged.get(i) for i in todo])
            for i, recorded in zip(todo, done):
                reports[i] = recorded
        for i in group:
            report = reports[i]
            if report is None or report.skipped:
                logger.info("pair %s / %s already compared; nothing to add", plans[i].before.path,
                            plans[i].after.path)
                report = reports[i] = report or skipped_report(plans[i])
            else:
                logger.info("%s -> %s%s: %d new lead(s), %d updated, %d approved change(s)",
                            report.before_date, report.after_date,
                            f" ({requests[i].tile})" if requests[i].tile else "",
                            len(report.created), len(report.updated), report.approved)
            publish_pair(plans[i], report)
    return [r.__dict__ for r in reports if r is not None]
