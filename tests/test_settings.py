"""The one settings module: every LANDPATROL_* variable read into a typed, frozen value."""
from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from pipeline import settings


def test_every_variable_is_read() -> None:
    env = {
        "LANDPATROL_LEDGER": "sqlite:///x.sqlite", "LANDPATROL_HOLIDAYS": " h.csv ",
        "LANDPATROL_WEB_SECRET": "s3", "LANDPATROL_CACHE": "/c1", "LANDPATROL_CACHE_DIR": "/c2",
        "LANDPATROL_GBM_BACKEND": "LightGBM", "LANDPATROL_LEDGER_KEY": "k" * 40,
        "LANDPATROL_LEDGER_KEY_FILE": "/k/ledger.key", "XDG_CONFIG_HOME": "/cfg",
    }
    got = settings.load(env)
    assert got.ledger_url == "sqlite:///x.sqlite" and got.holidays == "h.csv"
    assert got.web_secret == "s3" and got.flow_cache == Path("/c1") and got.model_cache == Path("/c2")
    assert got.gbm_backend == "lightgbm" and got.ledger_key == "k" * 40
    assert got.key_file == Path("/k/ledger.key") and got.config_dir == Path("/cfg/landpatrol")
    with pytest.raises(FrozenInstanceError):
        got.web_secret = "x"  # type: ignore[misc]


def test_empty_values_are_unset() -> None:
    got = settings.load({"LANDPATROL_LEDGER": "", "LANDPATROL_CACHE": "  ", "HOME": "/h"})
    assert got.ledger_url is None and got.flow_cache is None
    assert got.key_file == got.config_dir / "ledger.key"


def test_modules_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from flows.detect_changes import cache_dir as flow_cache
    from models.compiled import cache_dir as model_cache
    from pipeline.cli.options import default_ledger_url
    from pipeline.web.auth import resolve_secret

    monkeypatch.setenv("LANDPATROL_LEDGER", "sqlite:///elsewhere.sqlite")
    monkeypatch.setenv("LANDPATROL_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("LANDPATROL_CACHE_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("LANDPATROL_WEB_SECRET", "from-env")
    assert default_ledger_url() == "sqlite:///elsewhere.sqlite"
    assert flow_cache() == tmp_path / "a" and model_cache() == tmp_path / "b"
    assert resolve_secret(None) == "from-env"


def test_web_settings() -> None:
    got = settings.load({"LANDPATROL_WEB_SECURE_COOKIES": "1", "LANDPATROL_WEB_TRUST_PROXY": "yes",
                         "LANDPATROL_WEB_MAX_UPLOAD_MB": "2.5"})
    assert got.web_secure_cookies and got.web_trust_proxy and got.web_max_upload_mb == 2.5
    plain = settings.load({"LANDPATROL_WEB_MAX_UPLOAD_MB": "lots"})
    assert not plain.web_secure_cookies and not plain.web_trust_proxy
    assert plain.web_max_upload_mb == settings.DEFAULT_MAX_UPLOAD_MB


def test_web_url_and_language_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.i18n import default_lang
    from pipeline.runsummary import web_url

    monkeypatch.setenv("LANDPATROL_WEB_URL", "https://patrol.example/ ")
    monkeypatch.setenv("LANDPATROL_LANG", "en-GB")
    assert web_url() == "https://patrol.example" and default_lang() == "en"
    monkeypatch.setenv("LANDPATROL_WEB_URL", "")
    monkeypatch.setenv("LANDPATROL_LANG", "")
    assert web_url() is None and default_lang() == "zh"
