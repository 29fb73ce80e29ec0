"""The change-type gate (v4.1 candidate, rejected; models/README.md): flagged change that is not a
change *towards* bare or built ground is dropped. Kept here to re-run its records.

A pixel any detector flags is dropped (score 0) when, on the before date ``b`` and the after
date ``a`` normalised onto the before date's radiometry (cva's scene fit: per-band gain, offset
and noise sigma on pseudo-invariant pixels), it is one of (model card, "v4.1 candidates"):

* ``vegetation``: vegetation stays or grows: ``NDVI(a) >= NDVI_VEGETATED`` and
  ``NDVI(a) > NDVI(b) - NDVI_DROP`` (crop growth, phenology, green-up);
* ``water``: water stays water: MNDWI (green, swir1) > 0 on both dates, NDWI (green, nir)
  where there is no swir1 (level, turbidity, glint);
* ``brightness``: only the brightness changed: the noise-normalised residual of the best
  per-pixel scalar ``k`` (``b ~ k a``) is below cva's multispectral no-change cut
  (illumination, shadow, soil moisture, thin haze).

The constants are the lead-class rules' (:mod:`models.change_class`) and cva's prior
(:data:`models.cva.M0`); none is tuned. The gate needs red and nir; a pair without nir passes
ungated (``scene["gate"]["applied"] = False``). With ``cut`` (e.g. ``"ki"``) the per-scene cut
of :mod:`models.cuts` is chosen on the sample pixels the gate keeps. ``scene["gate"]`` records
the gate's scene fit and the share of the sample's flagged pixels each reason dropped.
Names as the studies use them: ``NAME+gate`` and ``NAME+gate:CUT`` (:func:`gated_detector`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap, Detector
from models.change_class import NDVI_DROP, NDVI_VEGETATED, WATER_INDEX
from models.cuts import METHODS, WrappedDetector, cut_record, rescale_to_cut
from models.cva import M0, CVADetector, valid_zero_filled
from pipeline.classes import ChangeClass

REASONS = ("vegetation", "water", "brightness")
GATE = "+gate"


def _nd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = x + y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s != 0, (x - y) / s, 0.0)


def gate_reasons(before: BandStack, after: BandStack, fit: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per reason, where that reason drops a pixel; ``after`` is raw (normalised here by ``fit``)."""
    roles = list(fit["roles"])
    a = {r: np.float32(fit["gain"][r]) * np.asarray(after[r], np.float32) + np.float32(fit["offset"][r])
         for r in roles}
    b = {r: np.asarray(before[r], np.float32) for r in roles}
    ndvi_b, ndvi_a = _nd(b["nir"], b["red"]), _nd(a["nir"], a["red"])
    vegetation = (ndvi_a >= NDVI_VEGETATED) & (ndvi_a > ndvi_b - NDVI_DROP)
    wet = "swir1" if "swir1" in roles else "nir"
    water = (_nd(b["green"], b[wet]) > WATER_INDEX) & (_nd(a["green"], a[wet]) > WATER_INDEX)
    sigma = {r: np.float32(fit["sigma"][r]) for r in roles}
    bb = sum((b[r] / sigma[r]) ** 2 for r in roles)
    ab = sum(b[r] * a[r] / sigma[r] ** 2 for r in roles)
    aa = sum((a[r] / sigma[r]) ** 2 for r in roles)
    with np.errstate(divide="ignore", invalid="ignore"):
        residual = np.where(aa > 0, np.maximum(bb - ab * ab / aa, 0.0), bb)  # min_k sum_r d_r(k)^2
    brightness = np.sqrt(residual / (len(roles) - 1)) < float(fit["m0"])
    return {"vegetation": vegetation, "water": water, "brightness": brightness}


class GateDetector(WrappedDetector):
    """``inner`` with the change-type gate (and optionally a per-scene cut on the kept pixels)."""

    def __init__(self, inner: Detector, cut: str | None = None, reasons: tuple[str, ...] = REASONS) -> None:
        if cut is not None and cut not in METHODS:
            raise ValueError(f"unknown cut {cut!r}; choose one of {', '.join(METHODS)}")
        if not reasons or set(reasons) - set(REASONS):
            raise ValueError(f"reasons must be some of {', '.join(REASONS)}, got {reasons}")
        super().__init__(inner, f"{inner.name}+gate" + (f":{cut}" if cut else ""))
        self.cut = cut
        self.reasons = tuple(r for r in REASONS if r in reasons)

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        scene = dict(self.inner.fit_scene(before, after, valid))
        ok = np.asarray(valid, bool)
        applied = all(r in before and r in after for r in ("red", "green", "nir"))
        gate: dict[str, Any] = {"applied": applied}
        if applied:
            fit = CVADetector().fit_scene(before, after, ok)
            gate.update({k: fit[k] for k in ("roles", "gain", "offset", "sigma")}, m0=M0, reasons=list(self.reasons))
        scene["gate"] = gate
        score = self.inner.detect(before, after, ok, scene).score
        ok, _, _ = valid_zero_filled(before, after, ok, gate.get("roles", []))
        keep = ~self._dropped(before, after, ok, gate) & ok
        if self.cut is not None:
            scene["cut"] = dict(cut_record(score[keep], self.cut), on="gated")
        cut = float(scene["cut"]["score"]) if self.cut is not None else self.inner.threshold
        flagged = (score > cut) & ok
        if applied:
            reasons = gate_reasons(before, after, gate)
            n = max(int(flagged.sum()), 1)
            gate["dropped"] = {k: round(float((v & flagged).sum()) / n, 4) for k, v in reasons.items()}
            gate["kept"] = round(float((flagged & keep).sum()) / n, 4)
        return scene

    @staticmethod
    def _dropped(before: BandStack, after: BandStack, ok: np.ndarray, gate: Mapping[str, Any]) -> np.ndarray:
        if not gate["applied"]:
            return np.zeros(np.shape(ok), bool)
        _, b, a = valid_zero_filled(before, after, ok, list(gate["roles"]))
        reasons = gate_reasons(b, a, gate)
        drop = np.zeros(np.shape(ok), bool)
        for r in gate.get("reasons", REASONS):
            drop |= reasons[r]
        return drop & ok

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        change = self.inner.detect(before, after, valid, scene)
        if self.cut is not None:
            change = rescale_to_cut(change, float(scene["cut"]["score"]), valid, self.threshold)
        gate = scene["gate"]
        ok = np.asarray(valid, bool)
        if gate["applied"]:
            ok, _, _ = valid_zero_filled(before, after, ok, list(gate["roles"]))
        drop = self._dropped(before, after, ok, gate)
        score = np.where(drop, np.float32(0), change.score).astype(np.float32)
        cls = np.where(drop, np.uint8(ChangeClass.NONE), change.change_class).astype(np.uint8)
        return ChangeMap(score=score, change_class=cls)


def gated_detector(name: str) -> GateDetector:
    """``"cva+gate"`` / ``"irmad+gate:ki"``: the registry's detector with the gate (and cut)."""
    from models.registry import get_detector

    base, _, cut = name.lower().partition(":")
    if not base.endswith(GATE) or (cut and cut not in METHODS):
        raise ValueError(f"not a gated detector name: {name!r} (NAME+gate or NAME+gate:CUT)")
    inner = base[: -len(GATE)]
    if inner in ("auto", "") or ":" in inner or GATE in inner:
        raise ValueError(f"not a gated detector name: {name!r}")
    return GateDetector(get_detector(inner), cut or None)
