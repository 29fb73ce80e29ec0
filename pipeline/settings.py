"""Every setting landpatrol takes from the environment, in one typed, frozen place.

:func:`load` reads the environment once into a :class:`Settings`; modules call it where they
need a value (so a changed environment, e.g. in tests, takes effect on the next call) and never
read ``os.environ`` themselves. The names are listed in README.md ("Settings").

Two exceptions, both documented there: ``GDAL_CACHEMAX`` is GDAL's own variable (read here
only to leave GDAL's cache alone when it is set), and ``landpatrol monitor`` sets defaults
for three ``PREFECT_*`` variables before Prefect reads them (``pipeline/cli/monitor.py``).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LEDGER_ENV = "LANDPATROL_LEDGER"
HOLIDAYS_ENV = "LANDPATROL_HOLIDAYS"
WEB_SECRET_ENV = "LANDPATROL_WEB_SECRET"
CACHE_DIR_ENV = "LANDPATROL_CACHE_DIR"
OLD_CACHE_ENV = "LANDPATROL_CACHE"  #: the analysis cache's former name, still accepted (warned)
GBM_BACKEND_ENV = "LANDPATROL_GBM_BACKEND"
LEDGER_KEY_ENV = "LANDPATROL_LEDGER_KEY"
LEDGER_KEY_FILE_ENV = "LANDPATROL_LEDGER_KEY_FILE"
WEB_SECURE_COOKIES_ENV = "LANDPATROL_WEB_SECURE_COOKIES"
WEB_TRUST_PROXY_ENV = "LANDPATROL_WEB_TRUST_PROXY"
WEB_MAX_UPLOAD_MB_ENV = "LANDPATROL_WEB_MAX_UPLOAD_MB"
WEB_URL_ENV = "LANDPATROL_WEB_URL"
LANG_ENV = "LANDPATROL_LANG"
BASEMAP_ENV = "LANDPATROL_BASEMAP_URL"
GDAL_CACHE_MB_ENV = "LANDPATROL_GDAL_CACHE_MB"
GDAL_CACHEMAX_ENV = "GDAL_CACHEMAX"
THREADS_ENV = "LANDPATROL_THREADS"

DEFAULT_MAX_UPLOAD_MB = 15.0
DEFAULT_GDAL_CACHE_MB = 256


class SettingDeprecated(FutureWarning):
    """A setting's old name was used (shown to users, unlike a DeprecationWarning)."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _number(value: str | None, default: float) -> float:
    try:
        return float(value) if value and value.strip() else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    """The environment as landpatrol understands it (empty strings count as unset)."""

    ledger_url: str | None = None        #: LANDPATROL_LEDGER: default ledger URL of the CLI
    holidays: str = ""                   #: LANDPATROL_HOLIDAYS: holiday file or dates
    web_secret: str | None = None        #: LANDPATROL_WEB_SECRET: signs web tokens and cookies
    cache_dir: Path | None = None        #: LANDPATROL_CACHE_DIR: analysis + compiled-model cache
    gbm_backend: str = ""                #: LANDPATROL_GBM_BACKEND: "lightgbm" skips compiling
    ledger_key: str | None = None        #: LANDPATROL_LEDGER_KEY: the event chain's HMAC key
    ledger_key_file: Path | None = None  #: LANDPATROL_LEDGER_KEY_FILE: where the key file lives
    config_dir: Path = Path.home() / ".config" / "landpatrol"  #: $XDG_CONFIG_HOME/landpatrol
    web_secure_cookies: bool = False     #: LANDPATROL_WEB_SECURE_COOKIES: always mark Secure
    web_trust_proxy: bool = False        #: LANDPATROL_WEB_TRUST_PROXY: honour X-Forwarded-Proto
    web_max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB  #: LANDPATROL_WEB_MAX_UPLOAD_MB
    web_url: str = ""                    #: LANDPATROL_WEB_URL: the web app's address, for links
    lang: str = ""                       #: LANDPATROL_LANG: zh or en
    basemap_url: str = ""                #: LANDPATROL_BASEMAP_URL: intranet XYZ basemap template
    gdal_cache_mb: int = DEFAULT_GDAL_CACHE_MB  #: LANDPATROL_GDAL_CACHE_MB: GDAL block cache
    gdal_cachemax: str = ""              #: GDAL_CACHEMAX (GDAL's own): set, landpatrol leaves it
    threads: int = 0                     #: LANDPATROL_THREADS: threads of one pair's analysis (0: the cores, at most 4)

    @property
    def cache_root(self) -> Path:
        """The cache folder: ``$LANDPATROL_CACHE_DIR``, else ``~/.cache/landpatrol``. Analyses
        go in ``<root>/<analysis key>``, compiled models in ``<root>/compiled``."""
        return self.cache_dir or Path.home() / ".cache" / "landpatrol"

    @property
    def key_file(self) -> Path:
        """The ledger key file: ``$LANDPATROL_LEDGER_KEY_FILE`` or ``<config dir>/ledger.key``."""
        return self.ledger_key_file or self.config_dir / "ledger.key"


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ

    def text(name: str) -> str | None:
        value = env.get(name, "")
        return value if value.strip() else None

    def path(name: str) -> Path | None:
        value = text(name)
        return Path(value) if value else None

    def cache() -> Path | None:
        new, old = path(CACHE_DIR_ENV), path(OLD_CACHE_ENV)
        if old is not None and old != new:
            what = "ignored" if new is not None else "still used"
            warnings.warn(f"{OLD_CACHE_ENV} is deprecated ({what}): set {CACHE_DIR_ENV}, the one cache "
                          "folder of analyses and compiled models", SettingDeprecated, stacklevel=3)
        return new or old

    xdg = path("XDG_CONFIG_HOME")
    return Settings(
        ledger_url=text(LEDGER_ENV),
        holidays=env.get(HOLIDAYS_ENV, "").strip(),
        web_secret=text(WEB_SECRET_ENV),
        cache_dir=cache(),
        gbm_backend=env.get(GBM_BACKEND_ENV, "").strip().lower(),
        ledger_key=text(LEDGER_KEY_ENV),
        ledger_key_file=path(LEDGER_KEY_FILE_ENV),
        config_dir=(xdg / "landpatrol") if xdg else Path.home() / ".config" / "landpatrol",
        web_secure_cookies=_flag(env.get(WEB_SECURE_COOKIES_ENV)),
        web_trust_proxy=_flag(env.get(WEB_TRUST_PROXY_ENV)),
        web_max_upload_mb=_number(env.get(WEB_MAX_UPLOAD_MB_ENV), DEFAULT_MAX_UPLOAD_MB),
        web_url=env.get(WEB_URL_ENV, ""),
        lang=env.get(LANG_ENV, ""),
        basemap_url=env.get(BASEMAP_ENV, "").strip(),
        gdal_cache_mb=int(_number(env.get(GDAL_CACHE_MB_ENV), DEFAULT_GDAL_CACHE_MB)),
        gdal_cachemax=env.get(GDAL_CACHEMAX_ENV, "").strip(),
        threads=max(0, int(_number(env.get(THREADS_ENV), 0))),
    )
