"""The CNN detector (models/cnn.py): window invariance given its halo, ONNX export and load,
the shipped artifacts (every version in models/artifacts). Export needs PyTorch (the training
extra) and is skipped without it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.base import Detector
from models.cnn import ARTIFACTS, DEFAULT_VERSION, CNNDetector, receptive_radius
from pipeline.errors import ModelError
from pipeline.evaluate.runner import run_pair
from tests.test_gbm import assert_window_invariant, synthetic_pair

SHIPPED = sorted(p.stem.removeprefix("cnn-") for p in ARTIFACTS.glob("cnn-*.json"))


def test_default_version_is_shipped() -> None:
    assert DEFAULT_VERSION in SHIPPED, f"cnn-{DEFAULT_VERSION}.json missing: the CNN artifact is part of the product"
    assert CNNDetector().version == DEFAULT_VERSION


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request: pytest.FixtureRequest) -> CNNDetector:
    return CNNDetector(version=request.param)


def test_shipped_artifact_is_small_versioned_and_seeded(shipped: CNNDetector) -> None:
    meta = json.loads((ARTIFACTS / f"cnn-{shipped.version}.json").read_text())
    assert meta["version"] == shipped.version and isinstance(meta["seed"], int)
    assert meta["receptive_radius"] == receptive_radius(meta["dilations"]) == shipped.halo
    assert set(meta["band_sets"]) == {"full", "rgb"}
    for info in meta["band_sets"].values():
        assert (ARTIFACTS / info["model"]).stat().st_size < 3_000_000
    assert isinstance(shipped, Detector) and shipped.thread_safe


def test_window_invariant_given_halo(shipped: CNNDetector) -> None:
    assert_window_invariant(shipped)


def test_sidecar_radius_must_match_its_dilations(tmp_path: Path) -> None:
    meta = json.loads((ARTIFACTS / f"cnn-{DEFAULT_VERSION}.json").read_text())
    meta["receptive_radius"] -= 1
    (tmp_path / "cnn-x.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="receptive radius"):
        CNNDetector(version="x", artifacts=tmp_path)


def assert_tiling_invariant(shipped: CNNDetector) -> None:
    """Tiling an image into windows of different sizes (each with the halo) gives the same scores."""
    img = synthetic_pair(3, (90, 100))
    valid = np.ones(img.label.shape, bool)
    scene = shipped.fit_scene(img.before, img.after, valid)
    h = shipped.halo
    results = []
    for size in (17, 32, 64):
        out = np.zeros(img.label.shape, np.float32)
        for r in range(0, 90, size):
            for c in range(0, 100, size):
                rs, cs = slice(max(r - h, 0), min(r + size + h, 90)), slice(max(c - h, 0), min(c + size + h, 100))
                part = shipped.detect({k: v[rs, cs] for k, v in img.before.items()},
                                      {k: v[rs, cs] for k, v in img.after.items()}, valid[rs, cs], scene)
                rr, cc = r - rs.start, c - cs.start
                out[r:r + size, c:c + size] = part.score[rr:rr + size, cc:cc + size]
        results.append(out)
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0], atol=1e-5)


def test_window_size_does_not_change_results(shipped: CNNDetector) -> None:
    assert_tiling_invariant(shipped)


def test_scene_is_json_and_classes_only_where_changed(shipped: CNNDetector) -> None:
    img = synthetic_pair(11)
    res = run_pair(shipped, img.before, img.after, "syn")
    json.dumps(res.scene)
    changed = res.change.score > shipped.threshold
    assert (res.change.change_class[~changed] == 0).all()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_onnx_export_matches_torch_and_loads(tmp_path: Path, version: str) -> None:
    """Each version's network exports to ONNX, matches PyTorch on a size other than the export's,
    and is window-invariant with exactly its receptive radius as halo (one px less is not)."""
    torch = pytest.importorskip("torch")
    from lab.cnn_train import CONFIGS, build_net, export_onnx

    dilations = CONFIGS[version].dilations
    torch.manual_seed(0)
    net = build_net(3, 8, dilations).eval()
    export_onnx(net, 3, tmp_path / "n.onnx")
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(1, 6, 37, 41)).astype(np.float32)  # not the export size
    want = net(torch.from_numpy(x)).detach().numpy()
    got = sess.run(None, {"x": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-4)
    radius = receptive_radius(dilations)
    det = CNNDetector(version="t", sessions={"rgb": (sess, 0.5)}, halo=radius)
    assert_window_invariant(det)
    assert_tiling_invariant(det)
    with pytest.raises(AssertionError):
        assert_window_invariant(CNNDetector(version="t", sessions={"rgb": (sess, 0.5)}, halo=radius - 1))
