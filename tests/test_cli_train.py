"""``landpatrol train`` is a thin entry point onto lab/ (not installed): found from a checkout, refused otherwise."""
from __future__ import annotations

import pytest

from pipeline.cli.train import lab
from pipeline.errors import ConfigError


def test_train_finds_lab_in_the_checkout() -> None:
    assert hasattr(lab("gbm_train"), "CONFIGS") and hasattr(lab("crossval"), "cross_validate")


def test_train_without_lab_says_where_it_lives() -> None:
    with pytest.raises(ConfigError, match="lab/ folder of a source checkout"):
        lab("no_such_module")


def test_installed_package_holds_no_experiment() -> None:
    """What the wheel installs (pipeline, flows, models) imports nothing from lab/."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    hits = subprocess.run(["grep", "-rlE", r"^\s*(from|import) lab\b", "pipeline", "flows", "models"],
                          cwd=root, capture_output=True, text=True, check=False).stdout.split()
    assert hits == [], hits
    assert sys.modules.get("models.outline") is None and not (root / "models" / "train.py").exists()


def test_training_uses_scipys_filters_for_the_command_only(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """`landpatrol train` computes features with scipy's filters (the shipped artifacts were
    trained so) and hands the process back with OpenCV's."""
    from typer.testing import CliRunner

    import pipeline.cli.train as train
    from models import filters
    from pipeline.cli.main import app

    seen: list[bool] = []

    def check(data: object) -> None:
        seen.append(filters._reference)
        raise ConfigError("--data", "stop here")

    monkeypatch.setattr(train, "_check_data", check)
    result = CliRunner().invoke(app, ["train", "gbm", "--data", str(tmp_path), "--out", str(tmp_path)])
    assert seen == [True] and result.exit_code != 0
    assert filters._reference is False
