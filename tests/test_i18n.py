"""The message catalogue: complete in both languages, valid gettext, used for ledger and
validation messages, the web words, and the captions drawn on chips."""
from __future__ import annotations

import gettext
import io
import re
import string
import sys
import warnings
from datetime import date
from pathlib import Path

import pytest

from pipeline import i18n
from pipeline.i18n import catalogue, localized, msg, t

REPO = Path(__file__).resolve().parents[1]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_is_in_both_languages_with_the_same_parameters() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert len(zh) > 150
    assert set(zh) == set(en)
    for key in zh:
        assert _fields(zh[key]) == _fields(en[key]), key
        assert zh[key] != key and en[key], key


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    used: set[str] = set()
    pattern = re.compile(r"""(?:\bmsg|\bi18n\.t|(?<![\w.])t)\(\s*f?["']([a-z_]+\.[a-z0-9_.]+)["']""")
    for path in (REPO / "pipeline").rglob("*.py"):
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert {"ledger.cannot_go", "input.missing_column", "pic.area"} <= used
    missing = sorted(k for k in used if k not in catalogue("zh"))
    assert not missing, missing


def test_po_files_compile_to_mo_that_gettext_reads(tmp_path: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for lang in i18n.LANGS:
        with i18n.po_path(lang).open("rb") as fh:
            cat = read_po(fh, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, cat)
        buf.seek(0)
        gnu = gettext.GNUTranslations(buf)
        assert gnu.gettext("web.title") == t("web.title", lang)
        assert gnu.gettext("ledger.need_personnel") == t("ledger.need_personnel", lang)


def test_chinese_by_default_english_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    assert t("web.title") == "动态巡查"
    assert t("web.title", "en") == "Land patrol" and t("web.title", "en-GB") == "Land patrol"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert t("web.title") == "Land patrol"
    assert t("no.such.key", "en") == "no.such.key"


def test_a_refused_step_reads_in_chinese_and_english(ledger_url: str) -> None:
    from pipeline.ledger import Ledger
    from pipeline.ledger.lifecycle import TransitionError
    from pipeline.ledger.testing import leads_gdf, run_record, square

    with Ledger.open(ledger_url) as led:
        code = led.record_run(run_record(after=date.today()), leads_gdf([square(0, 0, 50.0)]),
                              None).created[0]
        with pytest.raises(TransitionError) as info:
            led.transition(code, "stopped", by="chen",
                           fields={"stop_measure": "x", "notice_no": "N"})
    err = info.value
    assert str(err) == f"{code}: cannot go from new to stopped (next: dispatched)"
    assert localized(err, "zh") == f"{code}: 不能从“新发现”直接变为“已制止”（下一步可为：已派发）"
    assert localized(err, "en") == str(err)


def test_cli_prints_the_chinese_sentence_by_default(ledger_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app
    from pipeline.ledger import Ledger

    Ledger.open(ledger_url).close()
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["landpatrol", "ledger", "transition", "XX-1", "--to",
                                      "dispatched", "--by", "chen", "--ledger", ledger_url])
    assert run_app(app) == 2
    assert capsys.readouterr().err == "error: XX-1: 台账中没有这个图斑\n"


def test_a_zone_layer_problem_reads_in_chinese(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from pipeline.errors import ZoneError
    from pipeline.zones import load_zones

    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"zone_id": ["Z1"], "zone_type": ["permanent_basic_farmland"], "level": [7]},
                     geometry=[box(118, 32, 118.1, 32.1)], crs=4326).to_file(path)
    with pytest.raises(ZoneError) as info:
        load_zones(path)
    assert "level must be 1, 2 or 3" in str(info.value)
    assert localized(info.value, "zh") == f"{path}: 保护级别必须是 1、2 或 3（1 最严）；发现 ['7']"


def test_message_survives_pickling_with_its_key() -> None:
    import pickle

    from pipeline.errors import ConfigError

    err = ConfigError("region.yaml", msg("input.bad_code", code="'x y'"))
    again = pickle.loads(pickle.dumps(err.message))
    assert again.key == "input.bad_code" and again.render("zh") == "区域代码 'x y' 必须是 1-12 个字母或数字"


def test_web_words_come_from_the_catalogue() -> None:
    from pipeline.web.i18n import error_text, translator

    assert translator("zh")("sheet") == "今日巡查单" == t("web.sheet", "zh")
    assert translator("en")("sheet") == "Today's patrol sheet"
    assert translator("en")("state.closed") == "closed"
    assert translator("en")("not-a-key") == "not-a-key"
    from pipeline.ledger.lifecycle import TransitionError

    err = TransitionError("NJ-1", msg("ledger.need_personnel"))
    assert error_text(err, "zh") == "现场核查至少需要两名核查人员（--set personnel=姓名1,姓名2）"


def test_chips_are_chinese_and_warn_when_no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import evidence

    row = {"area_m2": 1333.34, "area_mu": 2.0, "change_class": "construction", "priority": 1}
    if evidence.cjk_font_installed():
        assert evidence.drawing_lang("zh") == "zh"
    assert evidence.drawing_lang("en") == "en"
    zh = evidence._caption(row, "NJ-1", ("2000-05-03", "2002-07-12"), cjk=True)
    assert zh == ["NJ-1  新增建筑/硬化  优先级 1", "面积 1,333 m² / 2.00 亩   2000-05-03 → 2002-07-12"]
    monkeypatch.setattr(evidence, "CJK_FONTS", (("/nonexistent/font.ttc", 0),))
    evidence._font.cache_clear()
    evidence._warn_no_cjk.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert evidence.drawing_lang("zh") == "en"
        assert [str(w.message) for w in caught] == [t("pic.no_cjk_font", "en")]
    finally:
        monkeypatch.undo()
        evidence._font.cache_clear()
        evidence._warn_no_cjk.cache_clear()


def test_output_and_schedule_problems_read_in_chinese(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from flows.schedule import load_schedules
    from pipeline.errors import ConfigError, OutputError
    from pipeline.io.export import export_leads
    from pipeline.regioncheck import check_destinations

    target = tmp_path / "leads.csv"
    target.write_text("keep", encoding="utf-8")
    frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(OutputError) as info:
        export_leads(frame, target)
    assert localized(info.value, "zh") == f"{target}: 文件已存在；如需覆盖请加 --overwrite"
    path = tmp_path / "s.yaml"
    path.write_text("regions: []\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_schedules(path)
    assert localized(err.value, "zh") == f"{path}: “regions:”下没有列出任何区域"
    [problem] = check_destinations(f"sqlite:///{tmp_path / 'no' / 'l.sqlite'}", None)
    assert localized(problem, "zh").endswith(f"SQLite 台账所在文件夹 {tmp_path / 'no'} 不存在")


def test_tile_sensor_detection_and_ledger_refusals_read_in_both_languages(tmp_path: Path) -> None:
    import numpy as np
    import rasterio

    from pipeline.detect import DetectParams
    from pipeline.errors import ConfigError, InputError, TileError
    from pipeline.io.tiles import open_tile
    from pipeline.ledger import Ledger
    from pipeline.sensors import get_profile

    missing = tmp_path / "T1.tif"
    with pytest.raises(TileError) as info:
        open_tile(missing)
    assert localized(info.value, "zh") == f"{missing}: 文件或文件夹不存在"
    assert localized(info.value, "en") == f"{missing}: no such file or folder" == str(info.value)

    plain = tmp_path / "plain.tif"  # a raster with no CRS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(plain, "w", driver="GTiff", width=8, height=8, count=3, dtype="uint8") as ds:
            ds.write(np.zeros((3, 8, 8), np.uint8))
        with pytest.raises(TileError) as info:
            open_tile(plain)
    assert localized(info.value, "zh").startswith(f"{plain}: 没有坐标参考系")
    assert "no CRS: the raster is not georeferenced" in localized(info.value, "en")

    with pytest.raises(ConfigError) as info:
        get_profile("worldview9")
    assert localized(info.value, "zh").startswith("--sensor: 未知传感器 'worldview9'；可选 ")
    assert str(info.value).startswith("--sensor: unknown sensor 'worldview9'; choose one of ")
    with pytest.raises(ConfigError) as info:
        DetectParams(threshold=1.5)
    assert localized(info.value, "zh") == "--threshold: 阈值 1.5 不在 [0, 1) 范围内"
    assert str(info.value) == "--threshold: threshold 1.5 is not in [0, 1)"

    typo = tmp_path / "ledgr.sqlite"
    with pytest.raises(InputError) as info:
        Ledger.open(f"sqlite:///{typo}", create=False)
    assert localized(info.value, "zh") == f"sqlite:///{typo}: {typo} 处没有台账（请检查路径；此命令不会新建台账）"
    assert localized(info.value, "en").endswith(f"no ledger at {typo} (check the path; this command creates none)")
    assert not typo.exists()


def test_cli_prints_a_tile_problem_in_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.main import app
    from pipeline.cli.options import run_app

    zones = tmp_path / "zones.geojson"
    zones.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    before, after = tmp_path / "a_20240101.tif", tmp_path / "b_20240601.tif"
    monkeypatch.delenv(i18n.LANG_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["landpatrol", "run", "--before", str(before), "--after", str(after),
                                      "--zones", str(zones), "--ledger", f"sqlite:///{tmp_path / 'l.sqlite'}"])
    assert run_app(app) == 2
    assert capsys.readouterr().err == f"error: {before}: 文件或文件夹不存在\n"
    monkeypatch.setenv(i18n.LANG_ENV, "en")
    assert run_app(app) == 2
    assert capsys.readouterr().err == f"error: {before}: no such file or folder\n"
