"""A run folder opened as lazy labelled arrays (xarray + dask via rioxarray)."""
from __future__ import annotations

import numpy as np
import pytest
import rasterio

from pipeline.errors import InputError
from pipeline.io.runs import open_run, run_leads
from pipeline.io.scoreraster import read_score
from pipeline.runner import PairRequest, run_pair
from tests.scenes import BUILDING, SIDE, make_scene


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    scene = make_scene(tmp / "scene")
    report = run_pair(PairRequest(before=scene.before, after=scene.after, zones=scene.zones, approvals=scene.approvals,
                                  ledger_url=f"sqlite:///{tmp / 'l.sqlite'}", out_dir=tmp / "out"))
    from pathlib import Path

    return Path(report.out_dir)


def test_open_run_is_lazy_and_matches_the_files(run_dir):
    ds = open_run(run_dir, chunks=64)
    assert ds["score"].chunks is not None  # dask-backed: nothing read yet
    assert ds.rio.crs.to_epsg() == 32650 and ds.attrs["before_date"] == "2024-03-01"
    with rasterio.open(run_dir / "score.tif") as src:
        direct = read_score(src)  # the stored steps as the score, NaN where not valid
    np.testing.assert_allclose(ds["score"].values, direct, rtol=1e-6)
    assert np.isnan(direct).sum() == np.isnan(ds["score"].values).sum()
    assert 0.0 <= np.nanmin(direct) and np.nanmax(direct) <= 1.0
    r, c = BUILDING
    planted = ds["change_class"].isel(y=slice(r, r + SIDE), x=slice(c, c + SIDE)).values
    assert (planted == 2).mean() > 0.95, np.unique(planted, return_counts=True)  # CONSTRUCTION
    x0 = float(ds.x[0])
    assert x0 == pytest.approx(660000.0 + 5.0)  # pixel centres


def test_run_leads_and_bad_folder(run_dir, tmp_path):
    assert len(run_leads(run_dir)) == 1
    with pytest.raises(InputError, match="run.json"):
        open_run(tmp_path)
