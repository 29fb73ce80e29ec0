"""Entry point of the ``landpatrol`` command.

Each command lives in its own module and registers itself on one of the Typer apps below;
heavy imports (rasterio, geopandas, prefect) are deferred inside the command functions so
``landpatrol --help`` stays fast. Errors derived from :class:`pipeline.errors.LandpatrolError`
become one line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="landpatrol",
    help="Change detection on satellite and drone tiles for land-enforcement patrols (动态巡查).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
leads_app = typer.Typer(help="Leads in the patrol ledger: export.", no_args_is_help=True)
ledger_app = typer.Typer(help="The patrol ledger (巡查台账).", no_args_is_help=True)
evaluate_app = typer.Typer(help="Measure detectors on labelled data.", no_args_is_help=True)
app.add_typer(leads_app, name="leads")
app.add_typer(ledger_app, name="ledger")
app.add_typer(evaluate_app, name="evaluate")


def _register() -> None:
    # Importing a command module registers its commands on the apps above.
    import importlib

    for name in ("run", "monitor", "demo", "schedule", "leads", "ledger", "ledger_trust", "evaluate",
                 "train", "serve", "users", "review",
                 "assess", "clues", "reports"):
        try:
            importlib.import_module(f"pipeline.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not built yet
            if exc.name != f"pipeline.cli.{name}":
                raise


_register()


def main() -> None:  # pragma: no cover - console entry point wrapper
    from pipeline.cli.options import run_app

    sys.exit(run_app(app))


if __name__ == "__main__":  # python -m pipeline.cli.main: the commands register on the
    from pipeline.cli.main import main as _main  # module's own copy, not on __main__'s
    _main()
