"""`landpatrol review import` / `reconcile`: aliases, encodings, matching rules, refusals."""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import func, select

from pipeline.errors import InputError
from pipeline.ledger import Ledger
from pipeline.ledger.schema import Event
from pipeline.ledger.testing import leads_gdf, run_record, square
from pipeline.review.columns import PatchColumnMap
from pipeline.review.reading import read_patch_list
from tests.review_fixtures import (
    ISSUED,
    batch_rows,
    cli,
    patch_frame,
    seed_ledger,
    standard_batch,
)


def events(url: str) -> int:
    with Ledger.open(url) as led:
        return int(led.read(lambda c: c.execute(select(func.count()).select_from(Event)).scalar_one()))


@pytest.mark.parametrize("cpg", [True, False])
def test_gbk_shapefile_in_cgcs2000_reads_with_national_aliases(tmp_path: Path, cpg: bool) -> None:
    path = standard_batch(tmp_path, cpg=cpg)
    assert path.with_suffix(".cpg").exists() == cpg
    assert "GBK" in path.with_suffix(".cpg").read_text() if cpg else True
    plist = read_patch_list(path)
    f = plist.frame
    assert list(f["patch_no"])[:2] == ["320115202400001", "320115202400002"]
    assert f["note"].iloc[0] == "疑似新增建设用地" and f["label"].iloc[0] == "2024年度第1批"
    assert str(f["before_date"].iloc[0]) == "2024-01-01" and str(f["after_date"].iloc[0]) == "2024-05-20"
    assert f["area_mu"].iloc[0] == pytest.approx(5.4)
    assert f.crs.to_epsg() == 4326
    assert f["area_m2"].iloc[0] == pytest.approx(2500.0, rel=0.01)  # 50 m square measured in UTM


def test_tables_with_chinese_headers_and_a_column_map(tmp_path: Path) -> None:
    csv = tmp_path / "issued.csv"
    pd.DataFrame({"监测编号": ["A1", "A2"], "行政区代码": ["320115", "320115"], "图斑面积": ["1.5", "2"],
                  "前时相": ["2024-01-01", "2024/1/1"], "后时相": ["20240520", "2024年5月20日"],
                  "经度": ["118.80", "118.81"], "纬度": ["31.90", "31.91"]}).to_csv(
        csv, index=False, encoding="utf-8-sig")
    f = read_patch_list(csv).frame
    assert list(f["patch_no"]) == ["A1", "A2"] and str(f["after_date"].iloc[1]) == "2024-05-20"
    assert f["area_m2"].iloc[0] == pytest.approx(3.14159 * 900, rel=0.02)  # 30 m footprint
    xlsx = tmp_path / "issued.xlsx"
    pd.DataFrame({"编号X": ["B1"], "lon": [118.8], "lat": [31.9]}).to_excel(xlsx, index=False)
    with pytest.raises(InputError, match="monitoring-number"):
        read_patch_list(xlsx)
    f = read_patch_list(xlsx, PatchColumnMap(columns={"patch_no": "编号X"})).frame
    assert list(f["patch_no"]) == ["B1"]
    with pytest.raises(ValueError, match="unknown standard column"):
        PatchColumnMap(columns={"zone_id": "X"})


def test_import_joins_open_and_closed_leads_opens_new_ones_and_reconciles(ledger_url: str, tmp_path: Path,
                                                                        monkeypatch, capsys) -> None:
    codes = seed_ledger(ledger_url)
    path = standard_batch(tmp_path)
    rc, out, err = cli(monkeypatch, capsys, "review", "import", str(path), "--batch", "2024-1",
                       "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 0, err
    with Ledger.open(ledger_url) as led:
        frame = led.batch_patches("2024-1")
        by_no = frame.set_index("patch_no")
        assert by_no.loc["320115202400001", "lead_code"] == codes["A"]
        assert by_no.loc["320115202400002", "lead_code"] == codes["C"]  # a closed lead is joined too
        assert by_no.loc["320115202400004", "lead_code"] == codes["B"]
        new_code = by_no.loc["320115202400003", "lead_code"]
        assert new_code not in codes.values()
        new = led.get_lead(new_code)
        assert new["source"] == "satellite_inspection" and new["first_seen"] == ISSUED
        assert new["patch_nos"] == ["320115202400003"]
        a = led.get_lead(codes["A"])
        assert a["sources"] == ["imagery", "satellite_inspection"] and a["patch_nos"] == ["320115202400001"]
        joined = [e for e in led.history(codes["A"]) if e["action"] == "inspection_joined"]
        assert joined and joined[0]["after"]["patch_no"] == "320115202400001"
        assert led.verify().ok
    before = events(ledger_url)
    rc, out, _ = cli(monkeypatch, capsys, "review", "import", str(path), "--batch", "2024-1",
                     "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 0 and "nothing new" in out
    assert events(ledger_url) == before  # a second import changes nothing
    rec = tmp_path / "rec.json"
    misses = tmp_path / "misses.gpkg"
    rc, out, err = cli(monkeypatch, capsys, "review", "reconcile", "--batch", "2024-1", "--json", str(rec),
                       "--misses", str(misses), "--ledger", ledger_url)
    assert rc == 0, err
    doc = json.loads(rec.read_text(encoding="utf-8"))
    assert set(doc) >= {"batch", "issued_on", "totals", "patches"}
    p = {x["patch_no"]: x for x in doc["patches"]}
    assert p["320115202400001"]["found_by_landpatrol"] and p["320115202400001"]["days_ahead"] == 44
    assert p["320115202400001"]["found_on"] == "2024-05-01"
    assert p["320115202400002"]["status"] == "closed" and p["320115202400002"]["outcome"] == "false_positive"
    assert not p["320115202400003"]["found_by_landpatrol"] and p["320115202400003"]["days_ahead"] is None
    assert doc["totals"] == {"patches": 4, "found_before": 3, "missed": 1, "closed": 1, "open": 3,
                             "leads_not_issued": 0}
    layer = gpd.read_file(misses)
    assert list(layer["patch_no"]) == ["320115202400003"]


def test_leads_not_issued_and_issue_date_rule(ledger_url: str, tmp_path: Path) -> None:
    from pipeline.ledger.inspection import BatchSpec

    codes = seed_ledger(ledger_url)
    # one patch over A and one far east: B (between them, in the footprint) was not issued
    frame = read_patch_list(_write(tmp_path, [square(1, 1, 50.0), square(300, 0, 40.0)])).frame
    with Ledger.open(ledger_url) as led:
        spec = BatchSpec("b", issued_on=pd.Timestamp("2024-05-01").date(), source_path="x",
                         source_sha256="0" * 64, by="t")
        led.import_batch(spec, frame)
        doc = led.reconcile("b")
    assert [x["code"] for x in doc["leads_not_issued"]] == [codes["B"]]
    # seen on the issue day itself is not 'before'
    assert doc["patches"][0]["found_by_landpatrol"] is False and doc["totals"]["found_before"] == 0


def _write(folder: Path, geoms: list, rows: list | None = None, name: str = "p.gpkg") -> Path:
    path = folder / name
    patch_frame(rows or batch_rows(len(geoms)), geoms).to_file(path, engine="pyogrio")
    return path


@pytest.mark.parametrize("case,message", [
    ("dupes", "duplicate monitoring number"),
    ("nogeom", "have no geometry"),
    ("nocrs", "no or an unknown CRS"),
])
def test_bad_batches_are_refused_whole(ledger_url: str, tmp_path: Path, monkeypatch, capsys,
                                       case: str, message: str) -> None:
    seed_ledger(ledger_url)
    rows = batch_rows(3)
    geoms = [square(1, 1, 50.0), square(500, 500, 50.0), square(600, 600, 50.0)]
    if case == "dupes":
        rows[2]["JCBH"] = rows[0]["JCBH"]
    frame = patch_frame(rows, geoms)
    if case == "nogeom":
        frame.loc[1, "geometry"] = None
    path = tmp_path / "bad.shp"
    frame.to_file(path, engine="pyogrio", encoding="GBK")
    if case == "nocrs":
        path.with_suffix(".prj").unlink()
    before = events(ledger_url)
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(path), "--batch", "x",
                     "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 2 and message in err and str(path) in err and len(err.strip().splitlines()) == 1
    assert events(ledger_url) == before


def test_changed_patch_under_the_same_number_is_refused(ledger_url: str, tmp_path: Path, monkeypatch,
                                                        capsys) -> None:
    seed_ledger(ledger_url)
    first = _write(tmp_path, [square(1, 1, 50.0)], name="a.gpkg")
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(first), "--batch", "x",
                     "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 0, err
    before = events(ledger_url)
    moved = _write(tmp_path, [square(5, 5, 50.0), square(500, 500, 50.0)], name="b.gpkg")
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(moved), "--batch", "x",
                     "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 2 and "already in batch x" in err
    assert events(ledger_url) == before
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(tmp_path / "none.shp"), "--batch", "x",
                     "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 2 and "not found" in err


def test_overdue_on_working_days(ledger_url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    seed_ledger(ledger_url)
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "")
    path = standard_batch(tmp_path)
    # 2024-06-14 (Fri) + 5 working days = Fri 06-21
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(path), "--batch", "b", "--issued-on",
                     ISSUED.isoformat(), "--check-due", "5wd", "--evidence-due", "2024-07-01",
                     "--rectify-due", "2024-09-30", "--ledger", ledger_url)
    assert rc == 0, err
    with Ledger.open(ledger_url) as led:
        assert str(led.batch("b")["check_due"]) == "2024-06-21"
        rows = led.batch_overdue("b", today=pd.Timestamp("2024-06-24").date())
        # three patches' leads not checked (C is closed); Mon 06-24 is 1 working day after Fri 06-21
        assert sorted((r["deadline"], r["working_days_late"]) for r in rows) == [("check", 1)] * 3
        late = led.batch_overdue("b", today=pd.Timestamp("2024-10-08").date())
    kinds = {(r["patch_no"][-1], r["deadline"]) for r in late}
    assert ("2", "evidence") in kinds and ("2", "check") not in kinds  # closed, but no 举证 yet
    # 2024-10-01..07 is the National Day holiday: 10-08 is the first working day after 09-30
    assert {r["working_days_late"] for r in late if r["deadline"] == "check"} == {
        led.calendar.working_days_between(pd.Timestamp("2024-06-21").date(), pd.Timestamp("2024-10-08").date())}
    rc, out, _ = cli(monkeypatch, capsys, "review", "overdue", "--batch", "b", "--today", "2024-06-24",
                     "--json", "--ledger", ledger_url)
    assert rc == 0 and len(json.loads(out)) == 3


def test_matching_rules_edge_contact_and_two_leads(ledger_url: str, tmp_path: Path) -> None:
    from pipeline.ledger.inspection import BatchSpec

    codes = seed_ledger(ledger_url)  # A: cells 0..6, B: 100..106 (60 m squares)
    # touches A along an edge only; covers most of B and a sliver of a lead next to it
    with Ledger.open(ledger_url) as led:
        led.record_run(run_record(n=5), leads_gdf([square(106, 0, 60.0)]), None)
        d = led.leads_frame()["code"].iloc[-1]
        frame = read_patch_list(_write(tmp_path, [square(6, 0, 60.0), square(101, 0, 60.0)])).frame
        out = led.import_batch(BatchSpec("m", ISSUED, "x", "0" * 64, "t"), frame)
        patches = led.batch_patches("m").set_index("patch_no")
    edge, both = patches.index
    assert patches.loc[edge, "lead_code"] not in codes.values() and not patches.loc[edge, "joined"]
    assert patches.loc[both, "lead_code"] == codes["B"] and patches.loc[both, "other_leads"] == [d]
    assert patches.loc[both, "overlap_share"] == pytest.approx(50 / 60, abs=0.01)
    assert [c for _, c in out.joined] == [codes["B"]]
