"""举证 through the lifecycle: every judgment's checklist refuses what is missing; a complete 举证
per patch; the export's rows match the ledger (CSV with BOM, XLSX, GBK Shapefile)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ledger import Ledger
from pipeline.ledger.lifecycle import TransitionError
from tests.pdfcheck import fonts_embedded, need_poppler, pages_text, render_pages
from tests.review_fixtures import ISSUED, cli, seed_ledger, standard_batch

DAY = date(2024, 7, 1)
P1, P2, P3, P4 = (f"32011520240000{i}" for i in (1, 2, 3, 4))


@pytest.fixture()
def imported(ledger_url: str, tmp_path: Path, monkeypatch, capsys) -> dict[str, str]:
    seed_ledger(ledger_url)
    rc, _, err = cli(monkeypatch, capsys, "review", "import", str(standard_batch(tmp_path)), "--batch",
                     "2024-1", "--issued-on", ISSUED.isoformat(), "--ledger", ledger_url)
    assert rc == 0, err
    with Ledger.open(ledger_url) as led:
        return dict(zip(led.batch_patches("2024-1")["patch_no"], led.batch_patches("2024-1")["lead_code"]))


def photo(led: Ledger, code: str, folder: Path, kind: str = "photo", bearing: float | None = 90.0) -> None:
    from PIL import Image

    f = folder / f"{code}-{kind}-{bearing}.jpg"
    Image.new("RGB", (64, 48), (120, 90 if kind == "photo" else 160, 60)).save(f)
    led.attach(code, f, by="zhang", kind=kind, taken_at=datetime(2024, 6, 20, 2, tzinfo=UTC),
               lon=118.8, lat=31.9, bearing=bearing)


def refused(fn, *words: str) -> str:
    with pytest.raises((TransitionError, InputError)) as err:
        fn()
    for w in words:
        assert w in str(err.value), str(err.value)
    return str(err.value)


def test_complete_evidence_for_every_judgment_and_refusals(ledger_url: str, imported: dict[str, str],
                                                           tmp_path: Path, monkeypatch, capsys) -> None:
    a, c, new, b = imported[P1], imported[P2], imported[P3], imported[P4]
    with Ledger.open(ledger_url) as led:
        t = lambda code, to, f: led.transition(code, to, "zhang", f, today=DAY)  # noqa: E731
        # 违法: verified -> stopped -> reported -> filed -> rectified -> closed
        t(a, "dispatched", {"assignee": "zhang"})
        base = {"personnel": "zhang,li", "judgment": "违法", "land_use": "0601", "area_mu": "5.4"}
        refused(lambda: t(a, "verified", base), "missing", "违法类型", "违法面积", "违法主体")
        refused(lambda: t(a, "verified", base | {"land_use": "9999"}), "9999", "三调")
        refused(lambda: t(a, "verified", base | {"outcome": "legal"}), "means outcome illegal")
        full = base | {"violation_type": "未批先建", "illegal_mu": "5.0", "party": "某某公司",
                       "construction": "新建", "project": "厂房", "farmland_mu": "4", "basic_farmland_mu": "1"}
        t(a, "verified", full)
        assert led.get_lead(a)["outcome"] == "illegal"
        t(a, "stopped", {"stop_measure": "责令停止", "notice_no": "宁停〔2024〕1号"})
        t(a, "reported", {})
        t(a, "filed", {"case_no": "宁立〔2024〕1号"})
        rect = {"rectification": "拆除复耕", "rectified_mu": "5.0"}
        refused(lambda: t(a, "rectified", rect), "整改后照片")
        photo(led, a, tmp_path, "after_photo")
        refused(lambda: t(a, "rectified", {"rectification": "拆除"}), "rectification '拆除'")
        t(a, "rectified", rect)
        photo(led, a, tmp_path, "photo", bearing=None)
        refused(lambda: t(a, "closed", {}), "方位角")
        photo(led, a, tmp_path, "photo", bearing=135.0)
        t(a, "closed", {})
        # 合法: needs its approval
        t(new, "dispatched", {"assignee": "wang"})
        legal = {"personnel": "wang,li", "judgment": "合法", "land_use": "0702", "area_mu": "7.4"}
        refused(lambda: t(new, "verified", legal), "批准文号", "批准日期")
        t(new, "verified", legal | {"approval_no": "苏政地〔2023〕9号", "approval_on": "2023-09-01"})
        refused(lambda: t(new, "closed", {}), "现场照片")
        photo(led, new, tmp_path)
        t(new, "closed", {})
        # closed before the batch (false positive): 举证 amended outside a step
        refused(lambda: led.record_evidence(c, "zhang", {"judgment": "违法"}), "does not fit")
        refused(lambda: led.record_evidence(c, "zhang", {"judgment": "伪变化", "land_use": "0103",
                                                         "area_mu": "6.4"}), "现场照片")
        photo(led, c, tmp_path)
        led.record_evidence(c, "zhang", {"judgment": "伪变化", "land_use": "0103", "area_mu": "6.4"})
        assert led.history(c)[-1]["action"] == "evidence_recorded"
        # 设施农用地, split into two parts by the CLI
        t(b, "dispatched", {"assignee": "zhang"})
    run = lambda *args: cli(monkeypatch, capsys, *args, "--ledger", ledger_url)  # noqa: E731
    rc, _, err = run("ledger", "transition", b, "--to", "verified", "--by", "zhang", "--set", "personnel=zhang,li",
                     "--set", "judgment=设施农用地", "--set", "land_use=1202", "--set", "area_mu=8.4")
    assert rc == 2 and "设施农用地备案编号" in err
    parts = '[{"area_mu": 6, "judgment": "设施农用地", "land_use": "1202"}, {"area_mu": 2.4, "judgment": "农村道路"}]'
    rc, out, err = run("ledger", "transition", b, "--to", "verified", "--by", "zhang", "--set", "personnel=zhang,li",
                       "--set", "judgment=设施农用地", "--set", "land_use=1202", "--set", "area_mu=8.4",
                       "--set", "facility_record_no=宁设农备〔2024〕3号", "--set", f"parts={parts}")
    assert rc == 0, err
    with Ledger.open(ledger_url) as led:
        photo(led, b, tmp_path)
        led.transition(b, "closed", "zhang", {}, today=DAY)
        frame = led.batch_patches("2024-1").set_index("patch_no")
        assert led.verify().ok
    assert frame.loc[P1, "judgment"] == "违法" and frame.loc[P1, "rectification"] == "拆除复耕"
    assert frame.loc[P1, "rectified_on"] == DAY.isoformat() and frame.loc[P1, "status"] == "closed"
    assert [p["judgment"] for p in frame.loc[P4, "parts"]] == ["设施农用地", "农村道路"]
    assert set(frame["status"]) == {"closed"} and frame["judgment"].notna().all()
    # export rows match the ledger
    csv = tmp_path / "out.csv"
    rc, _, err = run("review", "export", "--batch", "2024-1", "--format", "csv", "--output", str(csv))
    assert rc == 0, err
    assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(csv, dtype=str, encoding="utf-8-sig").set_index("监测编号")
    assert list(table.columns[:4]) == ["行政区代码", "图斑面积(亩)", "合法性判定", "违法类型"]
    for no, row in frame.iterrows():
        assert table.loc[no, "合法性判定"] == row["judgment"]
        assert table.loc[no, "线索编号"] == row["lead_code"]
    assert table.loc[P1, "违法主体"] == "某某公司" and table.loc[P1, "地类名称"] == "工业用地"
    assert table.loc[P1, "立案编号"] == "宁立〔2024〕1号" and float(table.loc[P1, "违法面积(亩)"]) == 5.0
    assert "拆分" in table.loc[P4, "备注"]
    xlsx = tmp_path / "out.xlsx"
    assert run("review", "export", "--batch", "2024-1", "--output", str(xlsx))[0] == 0
    assert pd.read_excel(xlsx, dtype=str).set_index("监测编号").loc[P3, "批准文号"] == "苏政地〔2023〕9号"
    shp = tmp_path / "out.shp"
    assert run("review", "export", "--batch", "2024-1", "--format", "shp", "--output", str(shp))[0] == 0
    back = gpd.read_file(shp).set_index("JCBH")
    assert back.loc[P1, "WFLX"] == "未批先建" and back.crs.to_epsg() == 4326
    # the dossier of the illegal patch, page by page
    need_poppler()
    pdf = tmp_path / "d.pdf"
    rc, _, err = run("review", "dossier", P1, "--output", str(pdf))
    assert rc == 0, err
    pages = pages_text(pdf)
    text = "".join(pages)
    assert "卫片执法图斑卷宗" in pages[0] and P1 in pages[0]
    for words in ("违法", "未批先建", "宁停〔2024〕1号", "宁立〔2024〕1号", "拆除复耕", "某某公司", "工业用地",
                  "举证材料齐全", "方位角 135.0"):
        assert words in text, words
    flat = "".join(text.split())
    with Ledger.open(ledger_url) as led:
        hashes = [e["hash"] for e in led.history(a)]
        head = led.chain_head()
    for h in hashes:
        assert h in flat  # every event of the lead with its hash
    assert "链头" in pages[-1] and head.hash in "".join(pages[-1].split())
    assert any("Noto-Sans-CJK-SC" in f for f in fonts_embedded(pdf))
    images = render_pages(pdf, tmp_path)
    assert len(images) == len(pages) >= 2
    assert all(img.shape[0] > img.shape[1] for img in images)  # A4 portrait
    assert all((img < 200).any() for img in images)  # nothing blank
    folder = tmp_path / "dossiers"
    rc, _, err = run("review", "dossiers", "--batch", "2024-1", "--output", str(folder))
    assert rc == 0, err
    index = pd.read_csv(folder / "index.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(index["监测编号"]) == [P1, P2, P3, P4]
    assert all((folder / f).is_file() for f in index["文件"])


def test_evidence_fields_need_an_issued_patch(ledger_url: str) -> None:
    codes = seed_ledger(ledger_url)
    with Ledger.open(ledger_url) as led:
        led.transition(codes["A"], "dispatched", "c", {"assignee": "zhang"}, today=DAY)
        refused(lambda: led.transition(codes["A"], "verified", "z", {"personnel": "a,b", "judgment": "违法"},
                                       today=DAY), "no issued inspection patch")
        # a lead without patches verifies as before
        led.transition(codes["A"], "verified", "z", {"personnel": "a,b", "outcome": "legal"}, today=DAY)
        led.transition(codes["A"], "closed", "z", {}, today=DAY)
