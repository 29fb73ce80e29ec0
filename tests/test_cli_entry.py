"""``python -m pipeline.cli.main`` is the same command as the ``landpatrol`` script."""
from __future__ import annotations

import subprocess
import sys


def test_module_entry_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "--help"], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    for command in ("run", "monitor", "ledger", "review", "serve"):
        assert f" {command} " in out, out
