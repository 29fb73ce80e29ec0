"""Detectors by name. ``get_detector(None, pixel_size_m)`` gives the default of ``landpatrol run``.

``auto`` is not a detector of its own: it names a detector by the pair's pixel size
(:func:`auto_choice`), and the run records that one (name and version).
"""
from __future__ import annotations

from collections.abc import Callable

from models.base import Detector
from pipeline.errors import ConfigError

# The default is `auto` (models/README.md, "Session 3 decision"): at 15 m or finer the cva+gbm
# ensemble (gate) beats cva held out on OSCD, the aerial pairs and the sub-metre samples and still
# draws outlines the product can use (gbm alone draws objects 3-5 px too wide, so an approved roof
# would stick out of its approval and become a lead); on 30 m Landsat (Nanjing) cva wins.
DEFAULT_DETECTOR = "auto"
AUTO = "auto"
FINE_PIXEL_LIMIT_M = 15.0
"""``auto`` takes the ``ensemble`` for pixels this fine or finer (or of unknown size: pictures)
and ``cva`` for coarser ones. Its trained half (gbm) learned from 10 m Sentinel-2 and 1.5 m
aerial pixels; its context features span fixed pixel counts, so at 30 m (Landsat) they cover 9x
the ground it learned from. 15 m is the geometric middle of 10 m and 30 m, not a tuned value."""


def auto_choice(pixel_size_m: float | None) -> str:
    """The detector ``auto`` stands for at this pixel size (metres; None = unknown)."""
    return "ensemble" if pixel_size_m is None or pixel_size_m <= FINE_PIXEL_LIMIT_M else "cva"


def _cva() -> Detector:
    from models.cva import CVADetector

    return CVADetector()


def _gbm() -> Detector:
    from models.gbm import GBMDetector

    return GBMDetector()


def _irmad() -> Detector:
    from models.irmad import IRMADDetector

    return IRMADDetector()


def _ensemble() -> Detector:
    from models.ensemble import EnsembleDetector

    return EnsembleDetector()


_FACTORIES: dict[str, Callable[[], Detector]] = {"cva": _cva, "gbm": _gbm, "irmad": _irmad, "ensemble": _ensemble}


def available_detectors() -> list[str]:
    return sorted([*_FACTORIES, AUTO])


def _split(key: str) -> tuple[str, str | None]:
    """``"cva:otsu"`` -> ``("cva", "otsu")``: a detector with a per-scene cut (:mod:`models.cuts`)."""
    base, _, cut = key.partition(":")
    return base, (cut or None)


def check_detector_name(name: str | None) -> str:
    """The lower-cased name (``None`` = the default), or :class:`ConfigError` naming the option.

    ``NAME:CUT`` (e.g. ``cva:otsu``) is detector NAME with a per-scene cut (:data:`models.cuts.METHODS`)."""
    from models.cuts import METHODS

    key = (name or DEFAULT_DETECTOR).lower()
    base, cut = _split(key)
    if base != AUTO and base not in _FACTORIES:
        raise ConfigError("--detector", f"unknown detector {name!r}; choose one of {', '.join(available_detectors())}"
                          f" (optionally NAME:CUT, CUT one of {', '.join(METHODS)})")
    if cut is not None and (cut not in METHODS or base == AUTO):
        raise ConfigError("--detector", f"unknown per-scene cut in {name!r}; NAME:CUT takes CUT one of {', '.join(METHODS)}")
    return key


def get_detector(name: str | None = None, pixel_size_m: float | None = None) -> Detector:
    """The named detector; ``None`` or ``"auto"`` resolve by ``pixel_size_m`` (:func:`auto_choice`)."""
    key = check_detector_name(name)
    if key == AUTO:
        key = auto_choice(pixel_size_m)
    base, cut = _split(key)
    det = _FACTORIES[base]()
    if cut is None:
        return det
    from models.cuts import SceneCutDetector

    return SceneCutDetector(det, cut)
