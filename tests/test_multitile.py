"""A region of several Sentinel-2 tiles (two UTM zones): one lead per change, whether a change
lies across a tile edge or in the overlap of two tiles; right areas; a rerun adds nothing."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

from pipeline.errors import ConfigError, InputError
from pipeline.region import load_region, successive_pairs
from tests.tilescenes import CHANGES, DATES, change_frame, true_area_m2, write_region, write_tiles


def _by_change(leads: gpd.GeoDataFrame) -> dict[str, list[gpd.GeoSeries]]:
    """Planted change name -> the leads over it."""
    planted = change_frame().to_crs(4326)
    out: dict[str, list] = {name: [] for name in CHANGES}
    for lead in leads.to_crs(4326).itertuples():
        hits = [n for n, g in zip(planted["name"], planted.geometry) if g.intersects(lead.geometry)]
        assert len(hits) == 1, f"lead {lead.code} lies over {hits}"
        out[hits[0]].append(lead)
    return out


def _check_leads(url: str) -> None:
    from pipeline.ledger import Ledger

    with Ledger.open(url) as led:
        leads = led.leads_frame()
        assert led.verify().ok
    found = _by_change(leads)
    assert {name: len(v) for name, v in found.items()} == {name: 1 for name in CHANGES}
    for name, (lead,) in found.items():
        assert lead.area_m2 == pytest.approx(true_area_m2(name), rel=0.02), name
        assert lead.area_mu == pytest.approx(lead.area_m2 / 666.6667, rel=1e-4)
        assert lead.seen_count == 1


def _window(root: Path, url: str, out: Path | None = None):
    from pipeline.pairs import PairRequest
    from pipeline.planning import plan_pair
    from pipeline.runner import analyse_pair

    region = load_region(root)
    plans, analyses = [], []
    for before, after in successive_pairs(region):
        plan = plan_pair(PairRequest(before=before.path, after=after.path, zones=region.zones_path,
                                     ledger_url=url, region="kuajing", region_code="KJ",
                                     detector="cva", tile=after.tile, out_dir=out))
        plans.append(plan)
        analyses.append(analyse_pair(plan, root / "work" / after.tile))
    return plans, analyses


def test_tiles_pair_by_footprint(tmp_path: Path) -> None:
    region = load_region(write_region(tmp_path / "r"))
    assert [t.tile for t in region.tiles] == ["50SQA", "50SQB", "51STA"] * 2
    pairs = successive_pairs(region)
    assert [(a.tile, b.tile) for a, b in pairs] == [("50SQA", "50SQA"), ("50SQB", "50SQB"),
                                                    ("51STA", "51STA")]
    assert {(str(a.acquired), str(b.acquired)) for a, b in pairs} == {DATES}
    stac = load_region(write_region(tmp_path / "s", stac=True))
    assert [t.tile for t in stac.tiles] == [t.tile for t in region.tiles]


def test_a_window_of_three_tiles_gives_one_lead_per_change(ledger_url: str, tmp_path: Path) -> None:
    from pipeline.commit import commit_window

    plans, analyses = _window(write_region(tmp_path / "r"), ledger_url)
    seen = sum(len(a.detection.patches) for a in analyses)
    assert seen == 9  # edge: 2 parts, overlap: 2, cut_b: 2, cut_c: 2, alone: 1
    reports = commit_window(plans, analyses, ledger_url)
    assert sum(len(r.created) for r in reports) == len(CHANGES)
    assert all(not r.updated for r in reports)
    _check_leads(ledger_url)
    codes = {lead["code"] for r in reports for lead in r.leads}
    assert len(codes) == len(CHANGES) and None not in codes
    again = commit_window(plans, analyses, ledger_url)
    assert all(r.skipped for r in again)
    _check_leads(ledger_url)


def test_a_tile_delivered_late_adds_only_what_it_adds(ledger_url: str, tmp_path: Path) -> None:
    """51STA arrives after the window of 50SQA and 50SQB was recorded: the change 50SQB saw cut
    by its edge is completed (one more sighting), nothing else is recorded twice."""
    from pipeline.commit import commit_window
    from pipeline.ledger import Ledger

    root = write_region(tmp_path / "r")
    late = sorted((root / "tiles").glob("T51STA_*"))
    (tmp_path / "later").mkdir()
    for path in late:
        path.rename(tmp_path / "later" / path.name)
    commit_window(*_window(root, ledger_url), ledger_url)
    for path in late:
        (tmp_path / "later" / path.name).rename(path)
    plans, analyses = _window(root, ledger_url)
    reports = commit_window(plans, analyses, ledger_url)
    assert [r.skipped for r in reports] == [True, True, False]
    with Ledger.open(ledger_url) as led:
        leads = led.leads_frame()
    found = _by_change(leads)
    assert {name: len(v) for name, v in found.items()} == {name: 1 for name in CHANGES}
    assert {name: v[0].seen_count for name, v in found.items()} == {
        "edge": 1, "overlap": 1, "cut_b": 2, "cut_c": 1, "alone": 1}
    for name, (lead,) in found.items():
        assert lead.area_m2 == pytest.approx(true_area_m2(name), rel=0.02), name
    assert reports[2].updated == [found["cut_b"][0].code] and reports[2].created == []


def test_a_window_stopped_after_its_commit_is_completed_by_the_rerun(ledger_url: str, tmp_path: Path,
                                                                    monkeypatch) -> None:
    """Disk full while publishing the second tile's folder: the window is recorded (one
    transaction), the rerun publishes the missing folders and records nothing twice."""
    import errno

    from pipeline import outputs
    from pipeline.commit import commit_window
    from pipeline.ledger import Ledger
    from pipeline.rundirs import run_folders

    out = tmp_path / "out"
    plans, analyses = _window(write_region(tmp_path / "r"), ledger_url, out)
    real, calls = outputs.write_evidence, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(outputs, "write_evidence", second_fails)
        with pytest.raises(InputError, match="No space left"):  # OutputError naming the folder
            commit_window(plans, analyses, ledger_url)
    with Ledger.open(ledger_url) as led:
        statuses = led.read(lambda c: [r[0] for r in c.exec_driver_sql(
            "SELECT status FROM runs ORDER BY id")])
        codes = sorted(led.leads_frame()["code"])
    assert statuses == ["completed", "pending_outputs", "pending_outputs"]
    assert len(codes) == len(CHANGES) and len(list(run_folders(out))) == 1
    again = commit_window(plans, analyses, ledger_url)
    assert [r.skipped for r in again] == [True, False, False]
    assert len(list(run_folders(out))) == 3
    with Ledger.open(ledger_url) as led:
        assert sorted(led.leads_frame()["code"]) == codes
    _check_leads(ledger_url)
    assert all(r.skipped for r in commit_window(plans, analyses, ledger_url))


def test_monitor_a_stac_collection_of_tiles(harness, ledger_url: str, tmp_path: Path) -> None:
    from pipeline.cli.monitor import run_monitor

    items = write_region(tmp_path / "r", stac=True)
    out = tmp_path / "out"
    reports = run_monitor(items, ledger_url, out, workers=1)
    assert sorted(r.tile for r in reports) == ["50SQA", "50SQB", "51STA"]
    assert sum(len(r.created) for r in reports) == len(CHANGES)
    _check_leads(ledger_url)
    folders = sorted(p for p in out.iterdir() if not p.name.startswith("."))
    assert len(folders) == 3
    for folder in folders:  # each tile's folder lists its own parts, coded as their lead
        parts = gpd.read_file(folder / "leads.gpkg", layer="leads")
        assert parts["code"].notna().all()
    again = run_monitor(items, ledger_url, out, workers=1)
    assert all(r.skipped for r in again)
    _check_leads(ledger_url)


def test_dask_workers_give_the_leads_of_one_process(harness, tmp_path: Path) -> None:
    from pipeline.cli.monitor import run_monitor
    from pipeline.ledger import Ledger

    region = write_region(tmp_path / "r")
    one, two = (f"sqlite:///{tmp_path / n}" for n in ("one.sqlite", "two.sqlite"))
    run_monitor(region, one, None, workers=1)
    run_monitor(region, two, None, workers=2)
    run_monitor(region, two, None, workers=2)  # the rerun adds nothing
    rows = []
    for url in (one, two):
        with Ledger.open(url) as led:
            frame = led.leads_frame()
        rows.append([(r.code, round(r.area_m2, 3), r.seen_count, r.geometry.wkt)
                     for r in frame.itertuples()])
    assert rows[0] == rows[1] and len(rows[0]) == len(CHANGES)
    _check_leads(two)


def test_tiles_of_a_date_need_not_touch(tmp_path: Path) -> None:
    """Two tiles far apart on the same dates still form one region (each its own pairs)."""
    from tests.tilescenes import TILES, X_A, Y0

    far = {"50SQA": TILES["50SQA"], "50RQV": (32650, (X_A, Y0 - 200_000.0))}
    write_tiles(tmp_path / "r" / "tiles", far)
    (tmp_path / "r" / "zones.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    pairs = successive_pairs(load_region(tmp_path / "r"))
    assert sorted(b.tile for _, b in pairs) == ["50RQV", "50SQA"]


def _refused(root: Path) -> InputError:
    with pytest.raises(InputError) as err:
        load_region(root)
    return err.value


def test_refusals_name_the_file(tmp_path: Path) -> None:
    root = write_region(tmp_path / "r")
    tiles = root / "tiles"
    # a date one tile lacks: its pairs would not match its neighbours'
    extra = tiles / "T50SQA_20240901.tif"
    extra.write_bytes((tiles / "T50SQA_20240601.tif").read_bytes())
    err = _refused(root)
    assert isinstance(err, ConfigError) and err.source == str(extra)
    assert "50SQB, 51STA" in str(err)
    extra.unlink()
    # the same footprint twice on a date
    twice = tiles / "S2A_MSIL2A_T50SQA_20240601.tif"
    twice.write_bytes((tiles / "T50SQA_20240601.tif").read_bytes())
    err = _refused(root)
    assert "50SQA" in str(err) and twice.name in str(err)
    twice.unlink()
    # a tile without an id among tiles with one
    anon = tiles / "scene_20240601.tif"
    anon.write_bytes((tiles / "T50SQA_20240601.tif").read_bytes())
    assert _refused(root).source == str(anon)
    anon.unlink()
    # the same file listed twice in an ItemCollection
    items = write_region(tmp_path / "s", stac=True)
    data = json.loads(items.read_text())
    data["features"].append(dict(data["features"][0], id="copy"))
    items.write_text(json.dumps(data))
    err = _refused(items)
    assert "listed twice" in str(err) and err.source.endswith("T50SQA_20240301.tif")


def test_mixed_sensors_in_a_window_are_refused(tmp_path: Path) -> None:
    from dataclasses import replace

    from pipeline.errors import SensorError
    from pipeline.tilejoin import check_window

    plans, _ = _window(write_region(tmp_path / "r"), "")
    odd = replace(plans[1], after=replace(plans[1].after, sensor="landsat-oli"))
    with pytest.raises(SensorError) as err:
        check_window([plans[0], odd, plans[2]])
    assert err.value.source == str(odd.after.path)
    with pytest.raises(InputError, match="same tile"):
        check_window([plans[0], replace(plans[1], after_hash=plans[0].after_hash)])
    check_window(plans)


def test_one_footprint_pairs_as_before_whatever_its_names(tmp_path: Path) -> None:
    """A region of one tile named with and without its MGRS id is one footprint, as before."""
    from tests.tilescenes import TILES

    paths = write_tiles(tmp_path / "r" / "tiles", {"50SQA": TILES["50SQA"]})["50SQA"]
    paths[1].rename(paths[1].with_name("after_2024-06-01.tif"))
    (tmp_path / "r" / "zones.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    region = load_region(tmp_path / "r")
    assert region.tile_ids == ()
    (pair,) = successive_pairs(region)
    assert [t.path.name for t in pair] == ["T50SQA_20240301.tif", "after_2024-06-01.tif"]


def _one_line(proc, code: int, *words: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_monitor_refuses_in_one_line_and_writes_nothing(harness, tmp_path: Path) -> None:
    from pipeline.cli.monitor import run_monitor
    from pipeline.errors import SensorError
    from tests.test_cli_run import landpatrol

    root = write_region(tmp_path / "r")
    lone = root / "tiles" / "T51STA_20240901.tif"
    lone.write_bytes((root / "tiles" / "T51STA_20240601.tif").read_bytes())
    ledger, out = tmp_path / "l.sqlite", tmp_path / "out"
    proc = landpatrol("monitor", root, "--ledger", f"sqlite:///{ledger}", "--out", out)
    _one_line(proc, 2, str(lone), "50SQA, 50SQB")
    assert not ledger.exists() and not out.exists()
    lone.unlink()
    # tiles of one date from two sensors: refused once planned, before any analysis or write
    items = write_region(tmp_path / "s", stac=True)
    data = json.loads(items.read_text())
    for item in data["features"]:
        if "51STA" in item["id"]:
            item["properties"]["landpatrol:sensor"] = "sentinel2"
    items.write_text(json.dumps(data))
    env_out = tmp_path / "out2"
    with pytest.raises(SensorError, match="one sensor") as err:
        run_monitor(items, f"sqlite:///{ledger}", env_out, workers=1)
    assert err.value.source.endswith("T51STA_20240601.tif")
    from pipeline.ledger import Ledger

    if ledger.exists():
        with Ledger.open(f"sqlite:///{ledger}") as led:
            assert len(led.leads_frame()) == 0 and not led.compared_pair_keys()
    assert not env_out.exists() or not [p for p in env_out.iterdir() if not p.name.startswith(".")]
