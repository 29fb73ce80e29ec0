"""The one settings module: every LANDPATROL_* variable read into a typed, frozen value."""
from __future__ import annotations

import warnings
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from pipeline import settings


def test_every_variable_is_read() -> None:
    env = {
        "LANDPATROL_LEDGER": "sqlite:///x.sqlite", "LANDPATROL_HOLIDAYS": " h.csv ",
        "LANDPATROL_WEB_SECRET": "s3", "LANDPATROL_CACHE_DIR": "/c2",
        "LANDPATROL_GBM_BACKEND": "LightGBM", "LANDPATROL_LEDGER_KEY": "k" * 40,
        "LANDPATROL_LEDGER_KEY_FILE": "/k/ledger.key", "XDG_CONFIG_HOME": "/cfg",
        "LANDPATROL_BASEMAP_URL": " https://tiles.intra/{z}/{x}/{y}.png ", "LANDPATROL_GDAL_CACHE_MB": "64",
        "GDAL_CACHEMAX": "512", "LANDPATROL_THREADS": "3",
    }
    got = settings.load(env)
    assert got.ledger_url == "sqlite:///x.sqlite" and got.holidays == "h.csv"
    assert got.web_secret == "s3" and got.cache_root == Path("/c2")
    assert got.gbm_backend == "lightgbm" and got.ledger_key == "k" * 40
    assert got.key_file == Path("/k/ledger.key") and got.config_dir == Path("/cfg/landpatrol")
    assert got.basemap_url == "https://tiles.intra/{z}/{x}/{y}.png"
    assert got.gdal_cache_mb == 64 and got.gdal_cachemax == "512" and got.threads == 3
    with pytest.raises(FrozenInstanceError):
        got.web_secret = "x"  # type: ignore[misc]


def test_empty_values_are_unset() -> None:
    got = settings.load({"LANDPATROL_LEDGER": "", "LANDPATROL_CACHE_DIR": "  ", "HOME": "/h"})
    assert got.ledger_url is None and got.cache_dir is None
    assert got.cache_root == Path.home() / ".cache" / "landpatrol"
    assert got.gdal_cache_mb == settings.DEFAULT_GDAL_CACHE_MB and not got.gdal_cachemax
    assert got.threads == 0
    assert got.key_file == got.config_dir / "ledger.key"


def test_modules_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from flows.detect_changes import cache_dir as flow_cache
    from models.compiled import cache_dir as model_cache
    from pipeline.cli.options import default_ledger_url
    from pipeline.web.auth import resolve_secret

    monkeypatch.setenv("LANDPATROL_LEDGER", "sqlite:///elsewhere.sqlite")
    monkeypatch.delenv("LANDPATROL_CACHE", raising=False)
    monkeypatch.setenv("LANDPATROL_CACHE_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("LANDPATROL_WEB_SECRET", "from-env")
    assert default_ledger_url() == "sqlite:///elsewhere.sqlite"
    assert flow_cache() == tmp_path / "b" and model_cache() == tmp_path / "b"
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


def test_the_old_cache_name_still_works_with_a_warning() -> None:
    with pytest.warns(settings.SettingDeprecated, match="LANDPATROL_CACHE is deprecated .still used.: set LANDPATROL_CACHE_DIR"):
        got = settings.load({"LANDPATROL_CACHE": "/old"})
    assert got.cache_root == Path("/old")
    with pytest.warns(settings.SettingDeprecated, match="ignored"):
        got = settings.load({"LANDPATROL_CACHE": "/old", "LANDPATROL_CACHE_DIR": "/new"})
    assert got.cache_root == Path("/new")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert settings.load({"LANDPATROL_CACHE_DIR": "/new"}).cache_root == Path("/new")


def test_basemap_and_gdal_cache_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasterio.env import get_gdal_config

    from pipeline import align
    from pipeline.web.layers import basemap_url

    monkeypatch.setenv("LANDPATROL_BASEMAP_URL", "https://tiles.intra/{z}/{x}/{y}.png")
    assert basemap_url() == "https://tiles.intra/{z}/{x}/{y}.png"
    assert basemap_url("/own/{z}/{x}/{y}.png") == "/own/{z}/{x}/{y}.png"
    monkeypatch.setenv("LANDPATROL_BASEMAP_URL", "ftp://nope")
    assert basemap_url() is None
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    monkeypatch.setenv("LANDPATROL_GDAL_CACHE_MB", "48")
    monkeypatch.setattr(align, "_cache_set", False)
    before = get_gdal_config("GDAL_CACHEMAX")
    try:
        align.limit_gdal_cache()
        assert int(get_gdal_config("GDAL_CACHEMAX")) == 48 * 2**20
    finally:
        from rasterio.env import set_gdal_config

        set_gdal_config("GDAL_CACHEMAX", before)


def test_pair_threads_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.detect import DetectParams
    from pipeline.parallel import default_workers

    monkeypatch.delenv("LANDPATROL_THREADS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert default_workers() == 4
    monkeypatch.setenv("LANDPATROL_THREADS", "1")
    assert default_workers() == 1 and DetectParams().workers == 1
    monkeypatch.setenv("LANDPATROL_THREADS", "6")
    assert default_workers() == 6
