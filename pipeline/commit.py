"""The commit stage of a date window: one pair, or the pairs of several tiles of one region.

A window is the unit of a ledger write. Its pairs were analysed apart (on any number of Dask
workers); here, in the one process that writes the ledger:

1. every pair's run folder is staged (code-free part);
2. the patches of the window's tiles are joined into one patch per change and screened once
   (:func:`pipeline.tilejoin.join_window`; a window of one pair keeps its own leads);
3. the window's runs are recorded in **one** transaction (:meth:`Ledger.record_runs`): a
   joined change is recorded once, by the run of the tile that saw most of it; a pair already
   compared is skipped inside the same transaction, so a rerun adds nothing (a tile new to a
   recorded window records only what the recorded tiles lacked);
4. each pair's folder is published with the codes the window's leads got (a tile's part of a
   joined change carries the code of the one lead), and marked published.

A pair recorded before whose folder never got published (``pending_outputs``) is not recorded
again: its folder is published now, with the codes the ledger gave its leads.
"""
from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from pipeline.pairs import Analysis, PairPlan, RunReport

if TYPE_CHECKING:
    from pipeline.ledger import Ledger


def commit_window(plans: Sequence[PairPlan], analyses: Sequence[Analysis],
                  ledger_url: str, staged_before: Sequence[Path | None] | None = None) -> list[RunReport]:
    """Stage, join, record (one transaction), publish; one report per pair, in order.

    ``staged_before``: the pairs' staging folders where they were staged already
    (:func:`pipeline.outputs.stage_outputs`, e.g. on a cluster's workers next to their
    analyses); a pair with none is staged here. Every staging folder is gone afterwards,
    published or removed."""
    from pipeline.ledger import Ledger
    from pipeline.outputs import stage_outputs
    from pipeline.runner import _report, _run_record
    from pipeline.tilejoin import join_window

    given = list(staged_before) if staged_before is not None else [None] * len(plans)
    staged: list[Path | None] = []
    try:
        with Ledger.open(ledger_url) as ledger:
            before = [ledger.run_state(plan.pair_key) for plan in plans]
        frames = join_window(plans, analyses, [s is not None for s in before])
        for plan, analysis, state, ready in zip(plans, analyses, before, given):
            out = plan.request.out_dir
            todo = state is None or state.pending  # a published pair stays as it is
            if out is None or not todo:
                staged.append(None)  # a folder staged for it anyway goes in ``finally``
            else:
                staged.append(ready if ready is not None else stage_outputs(plan, analysis, out))
        with Ledger.open(ledger_url) as ledger:
            outcomes = ledger.record_runs([(_run_record(plan, analysis, analysis.started_at), leads,
                                            approved)
                                           for plan, analysis, (leads, approved)
                                           in zip(plans, analyses, frames)])
            states = [ledger.run_state(plan.pair_key) for plan in plans]
            touched = [ledger.run_leads(o.run_id) for o in outcomes]
            window = pd.concat(touched, ignore_index=True) if touched else None
            reports = []
            for k, (plan, analysis, outcome, state) in enumerate(zip(plans, analyses, outcomes,
                                                                      states)):
                completing = outcome.skipped and state is not None and state.pending
                report = _report(plan, analysis, outcome.run_id,
                                 skipped=outcome.skipped and not completing)
                if not report.skipped:
                    _publish(ledger, plan, analysis, report, frames[k][0], touched[k],
                             gpd.GeoDataFrame(window, geometry="geometry", crs=touched[k].crs),
                             staged[k], state is None or state.pending)
                reports.append(report)
            return reports
    finally:
        for stage in [*staged, *given]:
            if stage is not None:
                shutil.rmtree(stage, ignore_errors=True)


def _publish(ledger: Ledger, plan: PairPlan, analysis: Analysis, report: RunReport,
             recorded: gpd.GeoDataFrame, mine: gpd.GeoDataFrame, window: gpd.GeoDataFrame,
             staged: Path | None, publish: bool) -> None:
    """The pair's report (the leads its run recorded, with their codes) and, when asked for,
    its published folder (the tile's own leads, with the codes of the leads they went to)."""
    from pipeline.outputs import publish_outputs
    from pipeline.runner import _lead_rows, codes_for

    leads = analysis.leads.copy()
    leads["code"] = codes_for(leads, window)
    if recorded is analysis.leads:
        report.leads = _lead_rows(leads)
    else:
        shown = recorded.copy()
        shown["code"] = codes_for(shown, mine)
        report.leads = _lead_rows(shown)
    own = mine.drop_duplicates("code")
    report.created = [str(c) for c in own.loc[own["created"], "code"]]
    report.updated = [str(c) for c in own.loc[~own["created"], "code"]]
    out = plan.request.out_dir
    if out is not None and staged is not None and publish:
        folder = publish_outputs(plan, analysis, leads, staged, out)
        assert report.run_id is not None
        ledger.mark_published(report.run_id, folder.name)
        report.out_dir = str(folder)
