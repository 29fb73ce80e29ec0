"""The convolutional detector: a small Siamese network run through onnxruntime.

Architecture (trained by ``landpatrol train cnn``, lab/cnn_train.py; PyTorch only there): each
date passes through the same encoder of 3x3 convolutions with growing dilations (v1: 1, 2, 4;
v2: 1, 2, 4, 8; shared weights, no pooling), the absolute difference of the two feature maps
goes through a 3x3 and a 1x1 convolution to one logit per pixel (FC-Siam-diff's difference
skip, without its down-sampling, so the network is exactly translation-equivariant). Its
receptive field has a radius of ``sum(dilations) + 1`` px (:func:`receptive_radius`, recorded in
the sidecar); with that halo a window's result does not depend on the window (every output
pixel sees only real context), see ``tests/test_cnn.py``.

Input: per date and band, the reflectance robustly standardised over the scene
(``(x - median) / IQR`` from ``fit_scene``'s sample), so a gain or offset between the dates
(season, sun, sensor) does not read as change. Score: the network's probability mapped so that
the sidecar's cut falls at 0.5. Class: the shared index rules (:mod:`models.change_class`) on
the before date and cva's normalised after date.

Artifacts: ``models/artifacts/cnn-<version>-<band_set>.onnx`` and the sidecar
``cnn-<version>.json`` (bands, cut, seed, training data and augmentations).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap, rescale
from models.change_class import classes_where
from models.cva import CVADetector, valid_zero_filled
from models.features import BAND_SETS, band_set_for
from pipeline.errors import ModelError

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEFAULT_VERSION = "v1"
DILATIONS = (1, 2, 4)  # v1's encoder


def receptive_radius(dilations: Sequence[int]) -> int:
    """The network's receptive radius in px: the encoder's dilated 3x3 convolutions + the 3x3 head."""
    return int(sum(dilations)) + 1


RECEPTIVE_RADIUS = receptive_radius(DILATIONS)


def robust_stats(stack: BandStack, valid: np.ndarray, roles: Sequence[str]) -> dict[str, list[float]]:
    """Per band ``[median, IQR]`` over valid finite pixels (JSON-serialisable)."""
    out = {}
    for r in roles:
        v = np.asarray(stack[r], np.float64)[np.asarray(valid, bool)]
        v = v[np.isfinite(v)]
        if v.size == 0:
            out[r] = [0.0, 1.0]
            continue
        q1, q2, q3 = np.percentile(v, [25, 50, 75])
        out[r] = [float(q2), float(max(q3 - q1, 1e-4))]
    return out


def network_input(before: BandStack, after: BandStack, valid: np.ndarray, roles: Sequence[str],
                  stats_b: Mapping[str, Sequence[float]], stats_a: Mapping[str, Sequence[float]]) -> np.ndarray:
    """``(1, 2 * bands, rows, cols)`` float32: both dates standardised, 0 where not valid."""
    ok = np.asarray(valid, bool)
    planes = []
    for stack, stats in ((before, stats_b), (after, stats_a)):
        for r in roles:
            med, iqr = stats[r]
            x = (np.asarray(stack[r], np.float32) - np.float32(med)) / np.float32(iqr)
            planes.append(np.where(ok & np.isfinite(x), np.clip(x, -10, 10), 0).astype(np.float32))
    return np.stack(planes)[None]


class CNNDetector:
    """Siamese CNN change detector (see module docstring)."""

    name = "cnn"
    required_roles = frozenset(BAND_SETS["rgb"])
    threshold = 0.5
    thread_safe = True  # onnxruntime's InferenceSession.run may be called from several threads

    def __init__(self, version: str | None = None, artifacts: Path | None = None,
                 sessions: Mapping[str, tuple[Any, float]] | None = None, halo: int = RECEPTIVE_RADIUS) -> None:
        self.version = version or DEFAULT_VERSION
        self._cva = CVADetector()
        self.halo = halo
        if sessions is not None:
            self._sessions = dict(sessions)
        else:
            self._sessions, self.halo = self._load(artifacts or ARTIFACTS, self.version)

    @staticmethod
    def _load(artifacts: Path, version: str) -> tuple[dict[str, tuple[Any, float]], int]:
        import onnxruntime as ort

        sidecar = artifacts / f"cnn-{version}.json"
        if not sidecar.is_file():
            raise ModelError(f"{sidecar}: model sidecar missing (run `landpatrol train cnn`)")
        meta = json.loads(sidecar.read_text())
        radius = meta.get("receptive_radius")
        if not isinstance(radius, int) or radius != receptive_radius(meta.get("dilations", ())):
            raise ModelError(f"{sidecar}: receptive radius {radius} does not match dilations {meta.get('dilations')}")
        out = {}
        for band_set, info in meta["band_sets"].items():
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            sess = ort.InferenceSession(str(artifacts / info["model"]), opts, providers=["CPUExecutionProvider"])
            out[band_set] = (sess, float(info["cut"]))
        return out, radius

    def band_set(self, roles: set[str]) -> str:
        wanted = band_set_for(roles)
        return wanted if wanted in self._sessions else "rgb"

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        roles = {r for r in before if r in after}
        band_set = self.band_set(roles)
        bands = list(BAND_SETS[band_set])
        return {"band_set": band_set, "roles": bands,
                "stats_before": robust_stats(before, valid, bands), "stats_after": robust_stats(after, valid, bands),
                "cva": self._cva.fit_scene(before, after, valid)}

    def probability(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> np.ndarray:
        sess, _ = self._sessions[scene["band_set"]]
        x = network_input(before, after, valid, scene["roles"], scene["stats_before"], scene["stats_after"])
        logit = sess.run(None, {sess.get_inputs()[0].name: x})[0][0, 0]
        return (1.0 / (1.0 + np.exp(-logit.astype(np.float64)))).astype(np.float32)

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        ok = np.asarray(valid, bool)
        _, cut = self._sessions[scene["band_set"]]
        prob = self.probability(before, after, ok, scene)
        score = np.where(ok, rescale(prob, cut), np.float32(0)).astype(np.float32)
        cva = scene["cva"]
        ok2, b, a = valid_zero_filled(before, after, ok, cva["roles"])
        return ChangeMap(score=score, classes_of=classes_where(
            b, a, (score > self.threshold) & ok2, lambda after: self._cva.normalise_after(after, cva)))
