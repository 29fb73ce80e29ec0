"""Detectors by name. ``get_detector(None)`` gives the default used by ``landpatrol run``."""
from __future__ import annotations

from collections.abc import Callable

from models.base import Detector
from pipeline.errors import ConfigError

# cva (1.1) stays the default: gbm (v3) scores higher on OSCD and the aerial pairs but has 3x the false
# alarms on the Nanjing Landsat pair and is ~150x slower (models/README.md has the table). irmad is a
# baseline. The cva+gbm ensemble failed its adoption rule fixed in advance twice (v2, v3): registered, not default.
DEFAULT_DETECTOR = "cva"


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
    return sorted(_FACTORIES)


def get_detector(name: str | None = None) -> Detector:
    key = (name or DEFAULT_DETECTOR).lower()
    if key not in _FACTORIES:
        raise ConfigError("--detector", f"unknown detector {name!r}; choose one of {', '.join(available_detectors())}")
    return _FACTORIES[key]()
