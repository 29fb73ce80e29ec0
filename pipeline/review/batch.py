"""One call from a patch-list file to an imported batch (used by the CLI and the flow)."""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.ledger.inspection import BatchSpec, ImportOutcome
from pipeline.review.columns import PatchColumnMap
from pipeline.review.reading import read_patch_list


def due_date(value: str | date | None, issued_on: date, option: str, calendar: Any) -> date | None:
    """A due date as ``YYYY-MM-DD`` or ``N`` working days after the issue date (``30wd``)."""
    if value is None or isinstance(value, date):
        return value
    text = value.strip().lower()
    if text.endswith("wd") and text[:-2].isdigit():
        return calendar.add_working_days(issued_on, int(text[:-2]))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ConfigError(option, f"'{value}' is neither a YYYY-MM-DD date nor Nwd (working days)") from None
    if day < issued_on:
        raise ConfigError(option, f"{day} is before the issue date {issued_on}")
    return day


def file_sha256(path: Path) -> str:
    """sha256 over the file (a Shapefile: over all its sidecar files)."""
    h = hashlib.sha256()
    parts = sorted(path.parent.glob(path.stem + ".*")) if path.suffix.lower() == ".shp" else [path]
    for part in parts:
        h.update(part.suffix.lower().encode())
        h.update(part.read_bytes())
    return h.hexdigest()


def check_file(path: Path, batch: str, issued_on: date, calendar: Any, *, by: str = "review",
               columns: Path | None = None, region: str | None = None,
               check_due: str | date | None = None, evidence_due: str | date | None = None,
               rectify_due: str | date | None = None) -> tuple[BatchSpec, Any]:
    """Read and check the patch list at ``path``: the batch to import and its patches (no ledger
    needed yet, so a refused file creates no ledger)."""
    from pipeline.zones import load_column_map

    name = batch.strip()
    if not name:
        raise ConfigError("--batch", "the batch needs a name")
    cmap = load_column_map(columns, PatchColumnMap) if columns else None
    plist = read_patch_list(path, cmap)
    spec = BatchSpec(name=name, issued_on=issued_on, source_path=str(path),
                     source_sha256=file_sha256(Path(path)), by=by, region=region,
                     check_due=due_date(check_due, issued_on, "--check-due", calendar),
                     evidence_due=due_date(evidence_due, issued_on, "--evidence-due", calendar),
                     rectify_due=due_date(rectify_due, issued_on, "--rectify-due", calendar))
    return spec, plist.frame


def import_file(led: Any, path: Path, batch: str, issued_on: date, *, by: str = "review",
                columns: Path | None = None, region: str | None = None,
                check_due: str | date | None = None, evidence_due: str | date | None = None,
                rectify_due: str | date | None = None) -> ImportOutcome:
    """Read, check and import the patch list at ``path`` as ``batch`` into ledger ``led``."""
    spec, frame = check_file(path, batch, issued_on, led.calendar, by=by, columns=columns, region=region,
                             check_due=check_due, evidence_due=evidence_due, rectify_due=rectify_due)
    return led.import_batch(spec, frame)
