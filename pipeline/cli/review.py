"""``landpatrol review ...``: the annual satellite inspection (卫片执法) from the command line.

import a batch, reconcile it with the ledger, list what is overdue, export for the national
system, print dossiers. Bad input is one line naming the file and a non-zero exit; nothing is
written before everything is checked.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError, InputError

review_app = typer.Typer(help="The annual satellite inspection (卫片执法): batches of issued patches.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")

BatchOpt = typer.Option(..., "--batch", help="The batch's name, e.g. 2024-1.")
ByOpt = typer.Option("review", "--by", help="Who imports (recorded in the events).")


def _open(url: str | None, *, create: bool = False) -> Any:
    """The ledger at ``url``; only ``review import`` (a county's first batch may start its
    ledger) creates one, the other commands refuse a missing ledger (a mistyped path)."""
    from pipeline.ledger import Ledger

    return Ledger.open(url or default_ledger_url(), create=create)


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` would create, ``None`` if it exists (or is not a SQLite file)."""
    from pipeline.ledger.engine import parse_url, sqlite_path

    parsed = parse_url(url)
    path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
    return None if path is None or path.exists() else path


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(option, f"'{value}' is not a YYYY-MM-DD date") from None


def _echo_json(value: Any, out: Path | None = None) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")


@review_app.command("import")
def import_cmd(
    patches: Path = typer.Argument(..., help="Issued patch list: .shp, .gpkg, .geojson, .xlsx, .csv."),
    batch: str = BatchOpt,
    issued_on: str = typer.Option(..., "--issued-on", help="Day the ministry issued the batch (YYYY-MM-DD)."),
    columns: Path | None = typer.Option(None, "--columns", help="Column map (YAML/JSON) for other field names."),
    region: str | None = typer.Option(None, "--region", help="Region code of the leads (default: "
                                         "the region of the leads the patches overlap)."),
    check_due: str | None = typer.Option(None, "--check-due", help="On-site check due: YYYY-MM-DD or Nwd."),
    evidence_due: str | None = typer.Option(None, "--evidence-due", help="举证 due: YYYY-MM-DD or Nwd."),
    rectify_due: str | None = typer.Option(None, "--rectify-due", help="Rectification due: YYYY-MM-DD or Nwd."),
    by: str = ByOpt,
    ledger: str | None = LedgerOpt,
) -> None:
    """Import a batch: each patch joins the lead it overlaps or opens a new one (a missing
    ledger is created: the county's first batch may start it)."""
    from pipeline.ledger import WorkCalendar
    from pipeline.review.batch import check_file

    day = _day(issued_on, "--issued-on")
    calendar = WorkCalendar.from_env()
    spec, frame = check_file(patches, batch, day, calendar, by=by, columns=columns, region=region,
                             check_due=check_due, evidence_due=evidence_due, rectify_due=rectify_due)
    url = ledger or default_ledger_url()
    new_file = _new_sqlite_file(url)
    try:
        with _open(url, create=True) as led:
            out = led.import_batch(spec, frame)
    except Exception:
        if new_file is not None:  # a refused first import leaves no empty ledger behind
            for part in (new_file, *(new_file.with_name(new_file.name + s) for s in ("-wal", "-shm"))):
                part.unlink(missing_ok=True)
        raise
    if not out.changed:
        typer.echo(f"batch {out.batch}: nothing new ({len(out.unchanged)} patch(es) already imported)")
        return
    typer.echo(f"batch {out.batch} ({out.region}): {len(out.joined)} patch(es) joined leads, "
               f"{len(out.created)} opened new leads, {len(out.unchanged)} already imported")
    for no, code in out.joined:
        typer.echo(f"  {no} -> {code} (joined)")
    for no, code in out.created:
        typer.echo(f"  {no} -> {code} (new lead)")


@review_app.command("reconcile")
def reconcile_cmd(
    batch: str = BatchOpt,
    json_out: Path | None = typer.Option(None, "--json", help="Also write the result as JSON here."),
    misses: Path | None = typer.Option(None, "--misses", help="Write the patches landpatrol had "
                                          "not found as a layer (.gpkg or .geojson)."),
    ledger: str | None = LedgerOpt,
) -> None:
    """Per patch: did landpatrol have it before the issue date, how many days ahead; totals."""
    with _open(ledger) as led:
        doc = led.reconcile(batch)
        if doc is None:
            raise InputError(batch, "no such batch")
        frame = led.batch_patches(batch) if misses else None
    from pipeline.cli.ledger import _table

    _table(f"batch {batch}, issued {doc['issued_on']}",
           ["patch_no", "lead_code", "found", "found_on", "days_ahead", "status", "outcome"],
           [[p["patch_no"], p["lead_code"], "yes" if p["found_by_landpatrol"] else "no",
             p["found_on"], p["days_ahead"], p["status"], p["outcome"]] for p in doc["patches"]])
    typer.echo(", ".join(f"{k} {v}" for k, v in doc["totals"].items()))
    if json_out is not None:
        _echo_json(doc, json_out)
    if frame is not None and misses is not None:
        from pipeline.review.layers import write_misses

        n = write_misses(frame, misses)
        typer.echo(f"{n} missed patch(es) written to {misses}")


@review_app.command("evidence")
def evidence_cmd(
    code: str = typer.Argument(..., help="Lead code or monitoring number."),
    by: str = typer.Option(..., "--by", help="Who records the 举证."),
    set_: list[str] = typer.Option([], "--set", help="key=value: judgment, violation_type, land_use, "
                                   "project, party, construction, area_mu, farmland_mu, basic_farmland_mu, "
                                   "illegal_mu, approval_no, approval_on, facility_record_no, basis, "
                                   "rectification, rectified_mu, rectified_on, parts (JSON), patch"),
    ledger: str | None = LedgerOpt,
) -> None:
    """Amend the 举证 of a lead's patches outside a lifecycle step (checked against its checklist)."""
    from pipeline.cli.ledger import _fields

    with _open(ledger) as led:
        lead_code = lead_of(led, code)
        written = led.record_evidence(lead_code, by, _fields(set_))
    typer.echo(f"{lead_code}: 举证 recorded for {', '.join(written.get('evidence', {})) or 'nothing new'}")


def lead_of(led: Any, code: str) -> str:
    """The lead code of ``code`` (a lead code, or a monitoring number of an imported patch)."""
    from sqlalchemy import select

    from pipeline.ledger.schema import Lead
    from pipeline.ledger.schema_inspection import InspectionPatch

    def find(conn: Any) -> str | None:
        if conn.execute(select(Lead.id).where(Lead.code == code)).first() is not None:
            return code
        return conn.execute(select(Lead.code).join(InspectionPatch, InspectionPatch.lead_id == Lead.id)
                            .where(InspectionPatch.patch_no == code).order_by(InspectionPatch.id)
                            .limit(1)).scalar()

    found = led.read(find)
    if found is None:
        raise InputError(code, "no such lead or monitoring number")
    return str(found)


@review_app.command("export")
def export_cmd(
    batch: str = BatchOpt,
    fmt: str = typer.Option("xlsx", "--format", "-f", help="xlsx | csv (UTF-8 with BOM) | shp (GBK)."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write."),
    ledger: str | None = LedgerOpt,
) -> None:
    """One row per patch in the national system's column order, Chinese headers."""
    from pipeline.review.export import write_export

    with _open(ledger) as led:
        if led.batch(batch) is None:
            raise InputError(batch, "no such batch")
        frame = led.batch_patches(batch)
    n = write_export(frame, output, fmt)
    typer.echo(f"{n} patch(es) written to {output}")


RunsOpt = typer.Option(None, "--runs", help="Folder of run outputs (imagery for the map); default: "
                       "the SQLite ledger's folder.")


def _runs_dir(runs: Path | None, led: Any) -> Path | None:
    from pipeline.web.app import _ledger_folder

    return runs or _ledger_folder(led.url)


@review_app.command("dossier")
def dossier_cmd(
    key: str = typer.Argument(..., help="Monitoring number (监测编号) or lead code."),
    output: Path = typer.Option(..., "--output", "-o", help="PDF to write."),
    runs: Path | None = RunsOpt,
    ledger: str | None = LedgerOpt,
) -> None:
    """The dossier (卫片卷宗) of one patch as a Chinese A4 PDF."""
    from pipeline.review.dossier import write_dossier

    with _open(ledger) as led:
        out = write_dossier(led, key, output, _runs_dir(runs, led))
    typer.echo(f"dossier written to {out}")


@review_app.command("dossiers")
def dossiers_cmd(
    batch: str = BatchOpt,
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the PDFs and index.csv."),
    runs: Path | None = RunsOpt,
    ledger: str | None = LedgerOpt,
) -> None:
    """One dossier PDF per patch of a batch, plus an index."""
    from pipeline.review.dossier import write_dossiers

    with _open(ledger) as led:
        output.mkdir(parents=True, exist_ok=True)
        index = write_dossiers(led, batch, output, _runs_dir(runs, led))
    typer.echo(f"dossiers written to {output} (index {index})")


@review_app.command("overdue")
def overdue_cmd(
    batch: str = BatchOpt,
    today: str | None = typer.Option(None, "--today", help="As of (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ledger: str | None = LedgerOpt,
) -> None:
    """Patches past the batch's check, 举证 or rectification due date (working days late)."""
    with _open(ledger) as led:
        if led.batch(batch) is None:
            raise InputError(batch, "no such batch")
        rows = led.batch_overdue(batch, _day(today, "--today") if today else None)
    if as_json:
        _echo_json(rows)
        return
    from pipeline.cli.ledger import _table

    _table(f"{len(rows)} overdue", ["patch_no", "lead_code", "status", "deadline", "due", "working_days_late"],
           [[r["patch_no"], r["lead_code"], r["status"], r["deadline"], r["due"], r["working_days_late"]]
            for r in rows])
