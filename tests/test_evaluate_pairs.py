from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from typer.testing import CliRunner

from pipeline.cli.main import app
from pipeline.errors import InputError
from pipeline.evaluate.baselines import NaiveCVADetector
from pipeline.evaluate.pairs import evaluate_pairs, find_pairs
from pipeline.evaluate.roi import evaluate_roi


def _pair(seed: int, shape: tuple[int, int] = (40, 50)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(60, 90, (*shape, 3)).astype(np.uint8)
    b = a.copy()
    gt = np.zeros(shape, np.uint8)
    b[10:20, 10:25] = 230
    gt[10:20, 10:25] = 255
    return a, b, gt


@pytest.fixture()
def pairs_root(tmp_path: Path) -> Path:
    for i in (1, 2):
        a, b, gt = _pair(i)
        d = tmp_path / "site" / str(i)
        d.mkdir(parents=True)
        Image.fromarray(a).save(d / "im1.BMP")
        Image.fromarray(b).save(d / "im2.bmp")
        Image.fromarray(gt).save(d / "gt.bmp")
    ds = tmp_path / "levir"
    for sub in ("A", "B", "label"):
        (ds / sub).mkdir(parents=True)
    a, b, gt = _pair(3)
    Image.fromarray(a).save(ds / "A" / "x.png")
    Image.fromarray(b).save(ds / "B" / "x.png")
    Image.fromarray(gt).save(ds / "label" / "x.png")
    Image.fromarray(a).save(ds / "A" / "nolabel.png")
    return tmp_path


def test_both_layouts_found(pairs_root: Path) -> None:
    warnings: list[str] = []
    names = [p.name for p in find_pairs(pairs_root, warnings.append)]
    assert names == ["levir/x", "site/1", "site/2"]
    assert any("nolabel" in w for w in warnings)


def test_no_pairs_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        find_pairs(tmp_path, lambda m: None)


def test_evaluate_pairs_pools(pairs_root: Path) -> None:
    rec = evaluate_pairs(pairs_root, NaiveCVADetector(), progress=lambda m: None)
    assert set(rec["pairs"]) == {"levir/x", "site/1", "site/2"}
    assert rec["pooled"]["recall"] > 0.9 and rec["pooled"]["f1"] > 0.5
    assert rec["pooled"]["fn"] == sum(p["fn"] for p in rec["pairs"].values())


def test_cli_pairs(pairs_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    res = CliRunner().invoke(app, ["evaluate", "pairs", str(pairs_root), "--detector", "naive", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert set(json.loads(out.read_text())) >= {"pooled", "pairs"}


def test_roi_rates(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    before = rng.integers(40, 60, (6, 30, 30)).astype(np.uint8)
    after = before.copy()
    after[:, 5:12, 5:12] = 200
    for name, arr in (("b.tif", before), ("a.tif", after)):
        with rasterio.open(tmp_path / name, "w", driver="GTiff", width=30, height=30, count=6, dtype="uint8") as d:
            d.write(arr)
    change = np.zeros((30, 30), np.uint8)
    change[6:11, 6:11] = 255
    unchanged = np.zeros((30, 30), np.uint8)
    unchanged[20:28, 20:28] = 255
    Image.fromarray(change).save(tmp_path / "c.bmp")
    Image.fromarray(unchanged).save(tmp_path / "u.bmp")
    rec = evaluate_roi(tmp_path / "b.tif", tmp_path / "a.tif", tmp_path / "c.bmp", tmp_path / "u.bmp",
                       NaiveCVADetector(), progress=lambda m: None)
    assert rec["detection_rate"] == 1.0
    assert rec["false_alarm_rate"] == 0.0
    assert rec["change_pixels"] == 25 and rec["unchanged_pixels"] == 64
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.bmp")
    with pytest.raises(InputError):
        evaluate_roi(tmp_path / "b.tif", tmp_path / "a.tif", tmp_path / "small.bmp", tmp_path / "u.bmp",
                     NaiveCVADetector(), progress=lambda m: None)
