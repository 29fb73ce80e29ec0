"""Shared fixtures: the real-data folder and a writer for small synthetic rasters."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from pipeline.ledger.testing import drop_ledger_url, fresh_ledger_url, ledger_kinds

# Messages are Chinese by default (pipeline/i18n.py); the suite asserts their English wording,
# and the tests of the Chinese default ask for it themselves.
os.environ.setdefault("LANDPATROL_LANG", "en")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """One ledger key for the whole test session (and the commands it starts), never the
    user's own ``~/.config/landpatrol/ledger.key``."""
    import os
    import tempfile

    if not os.environ.get("LANDPATROL_LEDGER_KEY") and not os.environ.get("LANDPATROL_LEDGER_KEY_FILE"):
        folder = tempfile.mkdtemp(prefix="landpatrol-test-key-")
        os.environ["LANDPATROL_LEDGER_KEY_FILE"] = str(Path(folder) / "ledger.key")


@pytest.fixture(params=ledger_kinds())
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger URL: SQLite always, PostgreSQL too when ``LANDPATROL_TEST_PG_URL``
    is set (``.ci/run`` starts one), so ledger tests run against both."""
    url = fresh_ledger_url(request.param, tmp_path)
    yield url
    drop_ledger_url(url)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real imagery; see its README.md), or skip the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


def write_raster(
    path: str | Path,
    array: np.ndarray,
    crs: Any,
    transform: Affine,
    nodata: float | None = None,
    **profile: Any,
) -> Path:
    """Write ``array`` ((rows, cols) or (bands, rows, cols)) as a raster; GeoTIFF unless
    ``driver=`` says otherwise. Extra keywords go to ``rasterio.open`` (``tiled``, ``compress``,
    ``descriptions=[...]`` sets band descriptions, ``tags={...}`` dataset tags,
    ``band_tags=[{...}, ...]`` per-band tags, ``mask=`` a (rows, cols) uint8 GDAL mask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = array[np.newaxis] if array.ndim == 2 else array
    descriptions = profile.pop("descriptions", None)
    tags = profile.pop("tags", None)
    band_tags = profile.pop("band_tags", None)
    mask = profile.pop("mask", None)
    prof = dict(driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                dtype=data.dtype.name, crs=crs, transform=transform, nodata=nodata)
    if prof["driver"] == "GTiff" and "photometric" not in profile:
        # GDAL would otherwise make a 4-band uint8 GeoTIFF RGB + alpha (band 4 a mask, not data)
        prof["photometric"] = "MINISBLACK"
    prof.update(profile)
    with rasterio.open(path, "w", **prof) as ds:
        ds.write(data)
        for i, d in enumerate(descriptions or [], 1):
            ds.set_band_description(i, d)
        if tags:
            ds.update_tags(**tags)
        for i, t in enumerate(band_tags or [], 1):
            ds.update_tags(i, **t)
        if mask is not None:
            ds.write_mask(mask)
    return path


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server per test process, shared by the flow tests."""
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["LANDPATROL_CACHE_DIR"] = str(home / "cache")
    from prefect.testing.utilities import prefect_test_harness

    # a busy machine takes minutes to start the temporary server
    with prefect_test_harness(server_startup_timeout=300):
        yield


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium for one test module (``tests/browser.py``; the module calls
    ``require_browser()`` first, which skips it without chromium or playwright)."""
    from tests.browser import launch

    with launch() as b:
        yield b
