"""``auto`` for fine pixels: one detector for multispectral pairs, another for the rest.

The v4 protocol (models/README.md) judges three regimes: Sentinel-2-like multispectral pairs
(nir and swir present), RGB / 4-band aerial and drone pairs, and coarse (> 15 m) pixels. The
registry resolves the coarse regime by pixel size before a detector exists; this detector
resolves the other two per pair, in ``fit_scene``, from the bands the pair has, and records the
member it used (``scene["auto"]``). Its ``halo`` covers both members and it is thread-safe only if
both are; per scene, windows take the halo, window size and thread safety of the member that
detects it (``halo_for``, ``window_for``, ``thread_safe_for``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from models.base import BandStack, ChangeMap, Detector, window_halo, window_px, window_thread_safe
from models.features import band_set_for


class BandSetDetector:
    """``members["full"]`` for pairs with nir and swir, ``members["nir"]`` (optional) for pairs
    with nir and no swir, ``members["rgb"]`` otherwise."""

    name = "auto"
    threshold = 0.5

    def __init__(self, members: Mapping[str, Detector]) -> None:
        if not {"full", "rgb"} <= set(members) <= {"full", "nir", "rgb"}:
            raise ValueError(f"members must be 'full', 'rgb' and optionally 'nir', got {sorted(members)}")
        self.members = dict(members)
        self.version = "; ".join(f"{k}={m.name} {m.version}" for k, m in sorted(self.members.items()))
        self.required_roles = frozenset.intersection(*(frozenset(m.required_roles) for m in self.members.values()))
        self.halo = max(m.halo for m in self.members.values())

    @property
    def thread_safe(self) -> bool:
        return all(bool(getattr(m, "thread_safe", False)) for m in self.members.values())

    def halo_for(self, scene: Mapping[str, Any]) -> int:
        """The halo of the member that detects this scene (cva needs none; ``halo`` is the widest)."""
        det = self.members[scene["auto"]["band_set"]]
        return window_halo(det, scene)

    def window_for(self, scene: Mapping[str, Any]) -> int:
        return window_px(self.members[scene["auto"]["band_set"]], scene)

    def thread_safe_for(self, scene: Mapping[str, Any]) -> bool:
        return window_thread_safe(self.members[scene["auto"]["band_set"]], scene)

    def member(self, roles: set[str]) -> str:
        """``full`` with nir and swir, ``nir`` with nir only (when that member exists), else ``rgb``."""
        band_set = band_set_for(roles)
        return "nir" if band_set == "rgb" and "nir" in roles and "nir" in self.members else band_set

    def fit_scene(self, before: BandStack, after: BandStack, valid: np.ndarray) -> dict[str, Any]:
        key = self.member({r for r in before if r in after})
        det = self.members[key]
        scene = dict(det.fit_scene(before, after, valid))  # flat: the driver may refine scene["shift"]
        scene["auto"] = {"band_set": key, "detector": det.name, "version": det.version}
        return scene

    def detect(self, before: BandStack, after: BandStack, valid: np.ndarray, scene: Mapping[str, Any]) -> ChangeMap:
        return self.members[scene["auto"]["band_set"]].detect(before, after, valid, scene)
