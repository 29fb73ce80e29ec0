"""The pairs of a region on a Dask cluster: Prefect tasks run by ``prefect-dask``'s DaskTaskRunner.

``compare_pairs`` plans (hashes and validates) and analyses every pair as Prefect tasks on the
cluster's workers, in parallel, and records them in the ledger from the flow's own process, one
transaction per date window (one pair, or the pairs of a region's tiles of those dates, joined
across tile edges: :mod:`flows.windows`), in date order: the ledger gets exactly what a run one
pair after another gives it (the same leads, codes and sightings), whatever the number of
workers.

The cluster is a ``distributed.LocalCluster`` on this machine (``workers`` processes, one pair
at a time each) unless ``dask`` names the address of a running scheduler (``tcp://host:8786``:
``dask scheduler`` plus ``dask worker`` by hand, dask-jobqueue on PBS/Slurm, dask-kubernetes).
Workers need the project installed and the tiles, zones and ``LANDPATROL_CACHE_DIR`` on paths they
can read at the same names (a shared file system); see ``docs/cluster.md``.
"""
from __future__ import annotations

from typing import Any

from prefect import flow

from pipeline import settings
from pipeline.parallel import cores, default_workers
from pipeline.runner import PairRequest


def task_runner(workers: int | None = None, dask: str | None = None) -> Any:
    """A DaskTaskRunner: on the scheduler at ``dask``, else on a LocalCluster of ``workers``."""
    from prefect_dask import DaskTaskRunner

    if dask:
        return DaskTaskRunner(address=dask)
    keep_default_malloc()
    n = workers or cores()
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
        "n_workers": n, "threads_per_worker": 1, "processes": True, "dashboard_address": None,
        "env": {settings.THREADS_ENV: str(pair_threads(n)), **prefect_api_env()},
    })


TRIM_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


def keep_default_malloc() -> None:
    """Start the LocalCluster's workers with glibc's own allocator settings.

    Dask's nannies start their workers with ``MALLOC_TRIM_THRESHOLD_=65536`` by default, which
    also switches off glibc's adaptive mmap threshold: every array over 128 KiB is then mapped,
    faulted in page by page and unmapped again. A pair's windows allocate dozens of such arrays
    each, so a pair took 1.3-1.6x as long on a worker as in a plain process, most of it in the
    kernel (``benchmarks/README.md``). The analysis hands memory back itself at the end of each
    stage (:func:`pipeline.parallel.trim_heap`). Unset here, in the process that starts the
    nannies (a value of ``None`` unsets the variable, as distributed documents); a cluster
    started elsewhere takes the same line in its Dask configuration (``docs/cluster.md``)."""
    import dask

    dask.config.set({TRIM_KEY: None})


def prefect_api_env() -> dict[str, str]:
    """``PREFECT_API_URL`` of the Prefect API this process reports to, for the LocalCluster's
    workers. Without it, a flow on Prefect's ephemeral API (no ``PREFECT_API_URL`` set: the
    default of ``landpatrol monitor``) gives its workers none either, and each worker process
    starts an ephemeral server of its own: on 2 cores three API servers then took a third of
    the CPU from the pairs (measured, ``benchmarks/README.md``), and the workers' task runs
    went to databases nobody reads."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        url = str(client.api_url)
    return {"PREFECT_API_URL": url} if url.startswith("http") and "ephemeral-prefect" not in url else {}


def pair_threads(workers: int) -> int:
    """Threads of one pair's analysis on a LocalCluster of ``workers`` processes: the cores
    shared out (``$LANDPATROL_THREADS`` when set). Each worker runs one pair at a time; a
    pair's window pass on every core, times the workers, would put several threads on each
    core and leave the pairs' serial steps (planning, sampling, vectorising, the COG copies)
    unoverlapped."""
    return default_workers(workers)


@flow(name="compare-pairs", log_prints=True, validate_parameters=False)
def compare_pairs(requests: list[PairRequest]) -> list[dict[str, Any]]:
    """Plan and analyse ``requests`` on the task runner's workers; record them window by window
    here (:mod:`flows.windows`) and publish each pair's lead table and summary, as
    ``detect_changes`` does."""
    from flows.windows import compare_windows

    return compare_windows(requests, parallel=True)


def run_on_cluster(requests: list[PairRequest], workers: int | None = None,
                   dask: str | None = None) -> list[dict[str, Any]]:
    """``compare_pairs`` with the task runner for ``workers`` / ``dask`` (a subflow in a flow)."""
    runner = task_runner(workers, dask)
    return compare_pairs.with_options(task_runner=runner,
                                      flow_run_name=cluster_run_name(requests, workers, dask))(requests)


def cluster_run_name(requests: list[PairRequest], workers: int | None = None,
                     dask: str | None = None) -> str:
    """The subflow's name in the Prefect UI, e.g. ``nanjing: 2 pairs on 4 local workers``."""
    region = requests[0].region if requests else "region"
    where = f"the cluster at {dask}" if dask else (
        f"{workers or cores()} local workers")
    return f"{region}: {len(requests)} pairs on {where}"
