"""``landpatrol monitor``: run the ``monitor-region`` Prefect flow on a region."""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url

#: Prefect's console handler only (logging.yml's ``handlers.console.level``); the API handler
#: keeps the level of ``PREFECT_LOGGING_LEVEL`` (INFO by default)
CONSOLE_LEVEL_ENV = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"


def quiet_prefect() -> None:
    """No analytics, and no Prefect logs on the console unless asked for
    (``PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL=INFO``): the command prints its own report, and
    bad input one line, never a flow traceback. The logs themselves still go to the Prefect
    API, so a server's UI (``PREFECT_API_URL``) shows every run's log."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(CONSOLE_LEVEL_ENV, "CRITICAL")
    # The temporary local server takes ~10 s on an idle 2-core machine; Prefect gives up after
    # 20 s, which a busy machine exceeds. Wait longer rather than fail the run.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


#: signals that stopped a monitor run in this process (the flow engine may swallow the
#: exception a handler raises and hand back a crashed state instead)
STOPPED_BY: list[int] = []


def stop_temporary_servers() -> None:
    """Stop the temporary Prefect server(s) this process started (child processes)."""
    from prefect.server.api.server import SubprocessASGIServer

    for server in list(SubprocessASGIServer._instances.values()):
        server.stop()


def stop_servers_on_signals() -> dict[int, Any]:
    """SIGTERM, SIGHUP and SIGINT stop the temporary Prefect server before the command ends:
    Python's default SIGTERM ends the process without ``atexit``, which would leave Prefect's
    server process running (an orphan holding a port) after a killed ``monitor``. Returns
    the handlers replaced (to restore); does nothing outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: object) -> None:
        STOPPED_BY.append(signum)
        stop_temporary_servers()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}


def run_monitor(region_dir: Path, ledger_url: str, out: Path | None,
                workers: int | None = None, dask: str | None = None) -> list:
    """Run the region flow and return its reports as :class:`pipeline.runner.RunReport`."""
    quiet_prefect()
    from pipeline.region import load_region

    load_region(region_dir)  # bad input fails here, in one line, before any flow starts
    from flows.monitor_region import monitor_region
    from pipeline.errors import LandpatrolError
    from pipeline.runner import RunReport

    previous = stop_servers_on_signals()
    try:
        state = monitor_region(region_dir=region_dir, ledger=ledger_url, out=out, workers=workers,
                               dask=dask, return_state=True)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if STOPPED_BY:
        if STOPPED_BY[-1] == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + STOPPED_BY[-1])

    if state.is_failed():
        try:
            state.result()
        except LandpatrolError:
            raise
        except Exception as exc:  # prefect wraps some failures
            cause = exc.__cause__ or exc
            if isinstance(cause, LandpatrolError):
                raise cause from None
            raise
    return [RunReport(**r) for r in state.result()]


@app.command("monitor")
def monitor_command(
    region_dir: Path = typer.Argument(..., help="Region folder (tiles/ + zones) or STAC ItemCollection JSON."),
    ledger: str | None = LedgerOpt,
    out: Path | None = typer.Option(None, "--out", help="Folder for per-run outputs."),
    workers: int | None = typer.Option(
        None, "--workers", min=1,
        help="Pairs analysed at once on a local Dask cluster (default: cores, at most 4; 1: one "
             "after another in this process)."),
    dask: str | None = typer.Option(
        None, "--dask", metavar="tcp://HOST:PORT",
        help="Run the pairs on this running Dask scheduler instead of a local cluster."),
) -> None:
    """Compare every new pair of successive tiles of a region (Prefect flow ``monitor-region``)."""
    from pipeline.cli.report import print_report

    if dask is not None and workers is not None:
        from pipeline.errors import ConfigError

        raise ConfigError("--dask", "give --workers or --dask, not both (the cluster has its own)")
    reports = run_monitor(region_dir, ledger or default_ledger_url(), out, workers, dask)
    if not reports:
        typer.echo(f"{region_dir}: no pair of successive tiles to compare")
    print_report(reports)
