"""``landpatrol users ...``: accounts of the web app."""
from __future__ import annotations

import sys
from typing import Optional

import typer

from pipeline.cli.main import app
from pipeline.cli.options import LedgerOpt, default_ledger_url
from pipeline.errors import ConfigError

users_app = typer.Typer(help="Accounts of the web app (analyst, supervisor, patrol).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="User name."),
    role: str = typer.Option(..., "--role", help="analyst | supervisor | patrol."),
    zones: str = typer.Option("", "--zones", help="Responsibility zone codes, comma separated "
                              "(`landpatrol ledger zone add`); analysts need none."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    ledger: Optional[str] = LedgerOpt,
) -> None:
    """Add an account; the password (argon2-hashed) is read from stdin, never from argv. The
    ledger must exist (a mistyped path is refused, not made an empty ledger)."""
    from pipeline.ledger import Ledger

    if not password_stdin:
        raise ConfigError("--password-stdin", "give the password on stdin with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with Ledger.open(ledger or default_ledger_url(), create=False) as led:
        user = led.add_user(name=name, role=role, zones=zones.split(","), password=password, by="cli")
    typer.echo(f"added {user.name} ({user.role}{': ' + ','.join(user.zones) if user.zones else ''})")
