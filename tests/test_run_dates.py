"""Dates that cannot be true are refused before anything is written: reversed tiles, an after
date before the before date, the same tile twice, the future, before the sensor existed."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest

from pipeline.errors import ConfigError, InputError, TileError
from pipeline.ledger import Ledger
from pipeline.runner import PairRequest, run_pair
from tests.scenes import make_scene, pair_request


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return make_scene(tmp_path_factory.mktemp("scene"))


def _request(scene, tmp_path: Path, **kw) -> PairRequest:
    return pair_request(scene, f"sqlite:///{tmp_path / 'ledger.sqlite'}", out_dir=tmp_path / "out", **kw)


def _refused(req: PairRequest, error: type[InputError], match: str) -> None:
    with pytest.raises(error, match=match):
        run_pair(req)
    with Ledger.open(req.ledger_url) as led:
        assert led.read(lambda c: c.exec_driver_sql("SELECT count(*) FROM runs").scalar()) == 0
    assert req.out_dir is None or not req.out_dir.exists() or not any(req.out_dir.iterdir())


def test_tiles_given_in_reverse_are_refused_not_swapped(scene, tmp_path):
    _refused(_request(scene, tmp_path, before=scene.after, after=scene.before), ConfigError,
             "earlier than --before")


def test_dates_reversed_against_the_tiles_own_dates_are_refused(scene, tmp_path):
    req = _request(scene, tmp_path, before=scene.after, after=scene.before,
                   before_date=date(2024, 3, 1), after_date=date(2024, 6, 1))
    _refused(req, ConfigError, "contradict the tiles' own dates")


def test_after_date_before_the_before_date_is_refused(scene, tmp_path):
    req = _request(scene, tmp_path, before_date=date(2024, 6, 1), after_date=date(2024, 3, 1))
    _refused(req, ConfigError, "earlier than --before")


def test_same_tile_twice_is_refused(scene, tmp_path):
    _refused(_request(scene, tmp_path, after=scene.before, after_date=date(2024, 6, 1)),
             TileError, "same tile")
    copy = tmp_path / "copy_of_before.tif"
    shutil.copy(scene.before, copy)
    _refused(_request(scene, tmp_path, after=copy, after_date=date(2024, 6, 1)), TileError,
             "same tile")


def test_future_date_is_refused(scene, tmp_path):
    _refused(_request(scene, tmp_path, after_date=date(9999, 12, 31)), TileError, "in the future")


def test_date_before_the_sensor_existed_is_refused(scene, tmp_path):
    req = _request(scene, tmp_path, sensor="sentinel2", before_date=date(2001, 5, 1))
    _refused(req, TileError, "before sentinel2 imagery exists")


def test_approval_dated_after_the_change_does_not_legalise_it(scene, tmp_path):
    late = gpd.read_file(scene.approvals)
    late["approved_on"] = "2024-07-01"  # the roof was already there on 2024-06-01
    path = tmp_path / "late_approvals.geojson"
    late.to_file(path)
    (tmp_path / "a").mkdir()
    timely = run_pair(_request(scene, tmp_path / "a", approvals=scene.approvals))
    report = run_pair(_request(scene, tmp_path, approvals=path))
    assert report.approved == timely.approved - 1 == 0
    assert len(report.created) == len(timely.created) + 1
    row = next(r for r in report.leads if r["reason"] == "approved_after_change")
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite'}") as led:
        lead = led.get_lead(row["code"])
    assert lead["approvals"][0]["after_change"] is True
    assert "approved after the change (先建后批)" in lead["legality"]["explanation"]
    assert lead["approved_share"] == 0.0
