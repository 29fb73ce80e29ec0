"""Change detectors. Each is a small class honouring :class:`models.base.Detector`."""
from __future__ import annotations

from models.registry import DEFAULT_DETECTOR, available_detectors, get_detector

__all__ = ["DEFAULT_DETECTOR", "available_detectors", "get_detector"]
