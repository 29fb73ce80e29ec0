"""Prefect flow ``review-batch``: an issued satellite-inspection batch imported, reconciled with
the ledger and printed as one dossier per patch. Thin tasks over :mod:`pipeline.review`."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.detect_changes import retry_transient


@task(name="import-batch", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_transient)
def import_task(ledger_url: str, patches: Path, batch: str, issued_on: date, columns: Path | None,
                region: str | None, dues: dict[str, str | None]) -> dict[str, Any]:
    from pipeline.ledger import Ledger
    from pipeline.review.batch import import_file

    with Ledger.open(ledger_url) as led:
        out = import_file(led, patches, batch, issued_on, by="review-batch", columns=columns,
                          region=region, **dues)
    return {"joined": out.joined, "created": out.created, "unchanged": out.unchanged}


@task(name="reconcile-batch")
def reconcile_task(ledger_url: str, batch: str, out: Path | None) -> dict[str, Any]:
    from pipeline.ledger import Ledger

    with Ledger.open(ledger_url) as led:
        doc = led.reconcile(batch)
    assert doc is not None  # imported just before
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "reconcile.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str),
                                            encoding="utf-8")
    return doc


@task(name="batch-dossiers")
def dossiers_task(ledger_url: str, batch: str, out: Path, runs: Path | None) -> str:
    from pipeline.ledger import Ledger
    from pipeline.review.dossier import write_dossiers

    folder = out / "dossiers"
    folder.mkdir(parents=True, exist_ok=True)
    with Ledger.open(ledger_url) as led:
        return str(write_dossiers(led, batch, folder, runs))


@flow(name="review-batch", log_prints=True, validate_parameters=True)
def review_batch(patches: Path, batch: str, issued_on: date, ledger: str | None = None,
                 out: Path | None = None, runs: Path | None = None, columns: Path | None = None,
                 region: str | None = None, check_due: str | None = None,
                 evidence_due: str | None = None, rectify_due: str | None = None,
                 dossiers: bool = True) -> dict[str, Any]:
    """Import ``patches`` as ``batch``, reconcile it, and (with ``out``) print its dossiers."""
    from pipeline.cli.options import default_ledger_url

    logger = get_run_logger()
    url = ledger or default_ledger_url()
    dues = {"check_due": check_due, "evidence_due": evidence_due, "rectify_due": rectify_due}
    imported = import_task(url, Path(patches), batch, issued_on, columns, region, dues)
    logger.info("batch %s: %d joined, %d new leads, %d already imported", batch,
                len(imported["joined"]), len(imported["created"]), len(imported["unchanged"]))
    doc = reconcile_task(url, batch, Path(out) if out else None)
    logger.info("batch %s: %s", batch, doc["totals"])
    index = dossiers_task(url, batch, Path(out), Path(runs) if runs else None) if out and dossiers else None
    return {"batch": batch, "totals": doc["totals"], "dossiers": index}
