"""``landpatrol ledger clue ...``: the clue register (线索登记) and replies to reporters."""
from __future__ import annotations

from datetime import date

import typer

from pipeline.cli.main import ledger_app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError

clue_app = typer.Typer(help="The clue register (线索登记): reporters, reply deadlines, replies.",
                       no_args_is_help=True)
ledger_app.add_typer(clue_app, name="clue")
OnOpt = typer.Option(None, "--on", help="Replied on (YYYY-MM-DD, default today).")
ContactOpt = typer.Option(False, "--with-contact", help="Show reporters and contacts (supervisors only).")


def _day(value: str | None, option: str) -> date | None:
    try:
        return None if value is None else date.fromisoformat(value)
    except ValueError:
        raise ConfigError(option, f"'{value}' is not a YYYY-MM-DD date") from None


@clue_app.command("reply")
def reply_cmd(code: str, reply: str = typer.Option(..., "--reply"), by: str = typer.Option(..., "--by"),
              on: str | None = OnOpt, ledger: str | None = LedgerOpt) -> None:
    """Record the reply to whoever reported lead CODE."""
    from pipeline.ledger import Ledger

    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        led.reply_clue(code, reply, by=by, on=_day(on, "--on"))
    typer.echo(f"{code}: reply recorded")


@clue_app.command("list")
def list_cmd(code: str | None = typer.Argument(None), with_contact: bool = ContactOpt,
             ledger: str | None = LedgerOpt) -> None:
    """Clues with their reply deadlines and replies (newest first)."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.ledger import Ledger

    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        rows = led.clues(code, with_contact=with_contact)
    cols = ["code", "channel", "received_on", "reply_due", "replied_on", "reply"]
    cols += ["reporter", "contact"] if with_contact else []
    table = Table(*cols)
    for r in rows:
        table.add_row(*["" if r.get(c) is None else str(r[c]) for c in cols])
    Console(width=200).print(table)
