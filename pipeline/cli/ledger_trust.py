"""``landpatrol ledger verify`` and ``ledger anchor``: proving the ledger says what happened.

``verify`` checks the keyed event chain, every lead's row against the replay of its events
and, with ``--anchor FILE``, that nothing before an anchored head was cut off or rewritten.
``anchor`` writes that head (see :mod:`pipeline.ledger.anchor`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.main import ledger_app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import LedgerError, OutputError


@ledger_app.command("verify")
def verify_cmd(anchor: Optional[Path] = typer.Option(
                   None, "--anchor", help="An anchor file from `ledger anchor`: also prove nothing "
                   "before it was cut off or rewritten."),
               ledger: Optional[str] = LedgerOpt) -> None:
    """Check the event chain and every lead against its history; exits 3 naming what is wrong."""
    from pipeline.ledger import Ledger
    from pipeline.ledger.anchor import read_anchor

    record = read_anchor(anchor) if anchor is not None else None
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        report = led.verify(anchor=record)
        url = led.url
    if not report.ok:
        raise LedgerError(url, report.describe())
    suffix = f"; nothing cut or rewritten before event {record['event_id']}" if record else ""
    typer.echo(f"ok: {report.describe()}{suffix}")


@ledger_app.command("anchor")
def anchor_cmd(output: Optional[Path] = typer.Option(
                   None, "--output", "-o", help="Write the anchor here (JSON) instead of stdout."),
               ledger: Optional[str] = LedgerOpt) -> None:
    """Write the chain head (event, hash, count, time, ledger identity) to keep elsewhere."""
    from pipeline.ledger import Ledger

    if output is not None and (output.is_dir() or not output.parent.is_dir()):
        raise OutputError(output, "is a directory" if output.is_dir() else "its folder does not exist")
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        record = led.anchor()
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(output, f"cannot be written ({exc.strerror})") from None
    typer.echo(f"anchored event {record['event_id']} ({record['events']} events) in {output}")
