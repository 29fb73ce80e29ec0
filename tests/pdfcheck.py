"""Checking printed PDFs page by page with poppler (pdftotext, pdffonts, pdftoppm)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def need_poppler() -> None:
    if not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm")):
        pytest.skip("poppler-utils not installed")


def pages_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def fonts_embedded(pdf: Path) -> list[str]:
    """Font names; asserts every font is embedded."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert lines, "no fonts"
    for line in lines:
        assert line.split()[-5] == "yes", line  # the 'emb' column
    return [line.split()[0] for line in lines]


def render_pages(pdf: Path, folder: Path) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True)
    return [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("page*.png"))]
