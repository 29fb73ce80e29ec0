"""Options shared by several commands, and the one place errors become exit codes."""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from pipeline import settings
from pipeline.errors import LandpatrolError

DEFAULT_LEDGER_ENV = settings.LEDGER_ENV


def default_ledger_url() -> str:
    """``$LANDPATROL_LEDGER`` or ``sqlite:///landpatrol.sqlite`` in the working directory."""
    return settings.load().ledger_url or f"sqlite:///{Path('landpatrol.sqlite').resolve()}"


LedgerOpt = typer.Option(
    None,
    "--ledger",
    help="Ledger URL: sqlite:///path.sqlite (default ./landpatrol.sqlite or $LANDPATROL_LEDGER) "
    "or postgresql://user@host/db.",
    show_default=False,
)


def error_line(err: LandpatrolError) -> str:
    """``error: <source>: <problem>``, the problem in ``$LANDPATROL_LANG`` (Chinese by default)."""
    from pipeline.i18n import localized

    return f"error: {printable(str(localized(err)))}"


def printable(text: str) -> str:
    """``text`` with undecodable file-name bytes shown as ``\\xNN`` (never a UnicodeError)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def fail(err: LandpatrolError) -> None:
    """Print ``err`` as one line on stderr and exit with its code."""
    typer.echo(error_line(err), err=True)
    raise typer.Exit(code=err.exit_code)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    print(f"warning: {message}", file=sys.stderr)


def run_app(app: typer.Typer) -> int:
    """Run the CLI; landpatrol errors become one line and an exit code, warnings one line each."""
    import warnings

    warnings.showwarning = _show_warning
    try:
        code = app(standalone_mode=False)  # click returns the code of a typer.Exit raised inside
    except LandpatrolError as err:
        typer.echo(error_line(err), err=True)
        return err.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except Exception as exc:  # click usage errors (typer's own click too) and the unexpected
        if any(c.__name__ == "ClickException" for c in type(exc).__mro__):
            message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
            typer.echo(f"error: {printable(message)}", err=True)
            return int(getattr(exc, "exit_code", 2))
        typer.echo(f"error: unexpected {type(exc).__name__}: {printable(str(exc))}", err=True)
        return 1
    return code if isinstance(code, int) else 0
