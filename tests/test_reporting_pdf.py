"""Chinese A4 PDFs: the text comes back out of the PDF and its fonts are embedded."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import InputError, OutputError
from pipeline.reporting import pdf

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
                                   reason="poppler-utils (pdftotext, pdffonts) not installed")
needs_cjk = pytest.mark.skipif(not pdf.cjk_families(), reason="no Chinese font installed (fonts-noto-cjk)")

PAGE = """{% extends "base.html" %}{% block body %}<h1>{{ title }}</h1>
<p>{{ text }}</p><table><tr><th>指标</th><th>数值</th></tr>
<tr><td>动态巡查发现率</td><td class="num">{{ share | pct }}</td></tr></table>{% endblock %}"""


@needs_poppler
@needs_cjk
def test_chinese_pdf_text_and_embedded_fonts(tmp_path: Path) -> None:
    html = pdf.environment().from_string(PAGE).render(title="月度巡查报告", text="违法占用耕地 <3> 亩",
                                                      share=0.625)
    assert "&lt;3&gt;" in html  # autoescaped
    out = pdf.html_to_pdf(html, tmp_path / "r.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "月度巡查报告" in text and "违法占用耕地 <3> 亩" in text and "62.5%" in text
    assert "第1页/共1页" in text.replace(" ", "")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and any("CJK" in r[0] for r in rows), fonts
    # columns: name type encoding emb sub uni object ID -> "emb" is the 4th from the end
    assert all(r[-5] == "yes" for r in rows), fonts
    assert not list(tmp_path.glob(".*.part"))


def test_missing_cjk_font_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "cjk_families", lambda: ())
    with pytest.raises(pdf.FontError, match="no Chinese font installed.*fonts-noto-cjk") as err:
        pdf.require_cjk_font()
    assert isinstance(err.value, InputError) and "\n" not in str(err.value)


@needs_cjk
def test_unwritable_output_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        pdf.html_to_pdf("<p>中文</p>", tmp_path / "missing" / "r.pdf")
    with pytest.raises(OutputError, match="is a directory"):
        pdf.html_to_pdf("<p>中文</p>", tmp_path)


def test_unknown_template_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no such report template"):
        pdf.render_html("nope.html", {})


@needs_cjk
def test_pdf_bytes_in_memory() -> None:
    data = pdf.pdf_bytes("<p>巡查</p>")
    assert data.startswith(b"%PDF-") and len(data) > 1000
