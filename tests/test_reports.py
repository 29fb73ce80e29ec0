"""Periodic reports: a Chinese PDF whose numbers are its figures JSON, `ledger stats` and `assess`."""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from pipeline.ledger import Ledger
from pipeline.ledger.calendar import WorkCalendar
from pipeline.reporting import pdf
from tests.test_assessment import build_2026, cli, patrol, zone

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None or not pdf.cjk_families(),
                                reason="needs poppler-utils and a Chinese font")


def pdf_text(path: Path) -> str:
    """The PDF's text in reading order, every space and line break removed (cells wrap)."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())


def test_annual_report_numbers_equal_json_stats_and_assess(ledger_url: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LANDPATROL_HOLIDAYS", "")
    with Ledger.open(ledger_url, calendar=WorkCalendar()) as led:
        build_2026(led)
        zone(led, "Z1", 1, -50, 3000.0)
        for day in (1, 15):
            patrol(led, "Z1", date(2026, 7, day))
    out, js, html = tmp_path / "annual.pdf", tmp_path / "annual.json", tmp_path / "annual.html"
    common = ["--today", "2027-01-10", "--ledger", ledger_url]
    rc, text, err = cli(monkeypatch, capsys, "report", "annual", "--year", "2026", "--output", str(out),
                        "--json", str(js), "--html", str(html), *common)
    assert rc == 0, err
    assert "未达标" in text
    figs = json.loads(js.read_text(encoding="utf-8"))
    body = flat = pdf_text(out)
    assert figs["title"].replace(" ", "") in flat and "年度报告" in figs["title"]
    for ind in figs["indicators"]:
        assert ind["name_zh"] in flat, ind["key"]
        assert ind["shown"] in body, ind["key"]
    assert "50.0%" in body and "75.0%" in body  # patrol share 2/4, stop rate 3/4
    assert figs["chain_head"]["hash"] in flat and figs["chain_head"]["event_id"] > 0
    zrow = next(r for r in figs["tables"]["patrols"] if r["code"] == "Z1")
    assert zrow["patrols"] == 2 and zrow["shortfall"] == zrow["required"] - 2 > 0
    assert len(figs["trend"]) == 12 and sum(t["new"] for t in figs["trend"]) == figs["counts"]["new"]
    assert {r["code"] for r in figs["tables"]["filed"]} == {r["code"] for r in figs["tables"]["filed"]}
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "CJK" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip())
    assert "<img" in html.read_text(encoding="utf-8")
    # the same numbers from `assess` and `ledger stats`
    period = ["--from", "2026-01-01", "--to", "2026-12-31", *common]
    rc, _, err = cli(monkeypatch, capsys, "assess", *period, "--json", str(tmp_path / "a.json"))
    assert rc == 0, err
    assessed = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    keys = ("key", "value", "numerator", "denominator", "threshold", "ok")
    assert [{k: i[k] for k in keys} for i in figs["indicators"]] == [{k: i[k] for k in keys}
                                                                     for i in assessed["indicators"]]
    assert figs["counts"] == assessed["counts"]
    rc, text, err = cli(monkeypatch, capsys, "ledger", "stats", *period, "--json")
    assert rc == 0, err
    assert figs["stats"] == json.loads(text)
    # issued: no longer due; December's monthly report is late after 20 January
    rc, text, _ = cli(monkeypatch, capsys, "report", "due", "--today", "2027-01-25", "--json", "--ledger", ledger_url)
    due = json.loads(text)
    assert ("annual", "2026") not in {(r["kind"], r["label"]) for r in due}
    dec = next(r for r in due if r["label"] == "2026-12")
    assert dec["state"] == "late" and dec["days_late"] == 5 and dec["due"] == "2027-01-20"


def test_monthly_report_of_an_empty_month(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out, js = tmp_path / "m.pdf", tmp_path / "m.json"
    Ledger.open(ledger_url).close()  # an empty ledger (a missing one is refused as a mistyped path)
    rc, _, err = cli(monkeypatch, capsys, "report", "monthly", "--month", "2026-11", "--output", str(out),
                     "--json", str(js), "--today", "2026-12-01", "--ledger", ledger_url)
    assert rc == 0, err
    figs = json.loads(js.read_text(encoding="utf-8"))
    assert all(i["value"] is None and i["reason"] for i in figs["indicators"])
    assert figs["period"]["due"] == "2026-12-20" and "无数据" in pdf_text(out)
    rc, _, err = cli(monkeypatch, capsys, "report", "monthly", "--month", "2026-13", "--output", str(out),
                     "--ledger", ledger_url)
    assert rc == 2 and "--month" in err
    rc, _, err = cli(monkeypatch, capsys, "report", "quarterly", "--quarter", "2026Q4",
                     "--output", str(tmp_path / "nowhere" / "q.pdf"), "--ledger", ledger_url)
    assert rc == 2 and "nowhere" in err
