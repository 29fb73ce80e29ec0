"""Two real processes recording runs into one ledger at once: no twins, no lost updates."""
from __future__ import annotations

import multiprocessing as mp

from pipeline.ledger import Ledger
from pipeline.ledger.events import verify_chain
from pipeline.ledger.testing import record_many

WORKERS = 2
RUNS = 6


def test_concurrent_runs_make_no_duplicates_and_lose_no_update(ledger_url: str) -> None:
    # every process opens the fresh ledger itself: the first migration races too
    ctx = mp.get_context("spawn")
    shared = (0.0, 0.0)
    with ctx.Pool(WORKERS) as pool:
        results = pool.starmap(record_many, [(ledger_url, w, RUNS, shared) for w in range(WORKERS)])
    created = [code for worker in results for run in worker for code in run]
    with Ledger.open(ledger_url) as led:
        leads = led.leads_frame()
        # one lead for the shared spot plus one per run's own patch, codes unique and gapless
        assert len(leads) == 1 + WORKERS * RUNS
        assert sorted(created) == sorted(leads["code"])
        n = len(leads)
        assert sorted(leads["code"]) == [f"NANJING-2024-{i:04d}" for i in range(1, n + 1)]
        shared_lead = leads.loc[leads["area_m2"].round() == 2500.0]
        assert len(shared_lead) == 1
        # every run saw the shared spot: no sighting lost
        assert int(shared_lead["seen_count"].iloc[0]) == WORKERS * RUNS
        detail = led.get_lead(shared_lead["code"].iloc[0])
        assert len(detail["observations"]) == WORKERS * RUNS
        assert len(led.compared_pair_keys("nanjing")) == WORKERS * RUNS
        assert led.read(verify_chain).ok
