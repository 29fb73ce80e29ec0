"""Detectors by name. ``get_detector(None, pixel_size_m)`` gives the default of ``landpatrol run``.

``auto`` names its members (:data:`AUTO_MEMBERS`) by the pair's pixel size (:func:`auto_choice`)
and, for fine pixels, by its bands (:class:`models.auto.BandSetDetector`, which records the member
in the scene parameters); the run records the detector's name and version.
"""
from __future__ import annotations

from collections.abc import Callable

from models.base import Detector
from pipeline.errors import ConfigError

# The default is `auto` (models/README.md, "v4 protocol"): chosen per regime by a rule written
# before its runs. Sentinel-2-like pairs: cva (the trained detectors did not beat it by the
# rule's margin on the three cities they never saw); aerial / RGB pairs: the cva+gbm ensemble
# (gate), best held out on the aerial pairs; coarse pixels (Landsat): IR-MAD with a per-scene
# Kittler-Illingworth cut, best on Nanjing; 4-band pairs at 5-15 m: cva with that cut (v4.4).
DEFAULT_DETECTOR = "auto"
AUTO = "auto"
FINE_PIXEL_LIMIT_M = 15.0
"""``auto`` takes its fine members for pixels this fine or finer (or of unknown size: pictures)
and its coarse member for coarser ones. gbm (in the ensemble) learned from 10 m Sentinel-2 and 1.5 m
aerial pixels; its context features span fixed pixel counts, so at 30 m (Landsat) they cover 9x
the ground it learned from. 15 m is the geometric middle of 10 m and 30 m, not a tuned value."""


MEDIUM_PIXEL_M = 5.0
"""From this pixel size up to :data:`FINE_PIXEL_LIMIT_M`, a pair with nir and no swir takes
``AUTO_MEMBERS["nir"]`` (models/README.md, v4.4: a study from OSCD's four 10 m bands) and an
RGB-only pair ``AUTO_MEMBERS["rgb_medium"]`` (v4.5: OSCD's three true-colour bands); finer
pixels keep the aerial study's member. 5 m lies between the studies' pixels (1.5 m and 10 m),
not tuned."""

AUTO_MEMBERS: dict[str, str] = {"coarse": "irmad:ki", "full": "cva", "nir": "cva:ki", "rgb_medium": "irmad",
                                "rgb": "gbm"}
"""``auto``'s member per regime (models/README.md, the v4 protocol, v4.4 and v4.5; ``rgb``
was the cva+gbm v3 ensemble until v4.5 gave it gbm alone, v6 since (c)): ``coarse``
for pixels coarser than :data:`FINE_PIXEL_LIMIT_M`, else ``full`` for pairs with nir and swir
(Sentinel-2-like); at :data:`MEDIUM_PIXEL_M` or coarser ``nir`` for pairs with nir and no swir
(Sentinel-2's 10 m bands, Gaofen-1/6 multispectral) and ``rgb_medium`` for RGB-only pairs
(true-colour exports); ``rgb`` for the rest (aerial, drone, finer 4-band and RGB, pictures).
The fine members are resolved per scene by :class:`models.auto.BandSetDetector` from the bands
the pair has (its ``rgb`` slot takes ``rgb_medium`` at medium pixels)."""


def auto_choice(pixel_size_m: float | None) -> str:
    """The regime ``auto`` resolves to at this pixel size (metres; None = unknown): its coarse
    member's name, or ``"fine"`` (the fine pair, chosen per scene by bands)."""
    return AUTO_MEMBERS["coarse"] if pixel_size_m is not None and pixel_size_m > FINE_PIXEL_LIMIT_M else "fine"


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


def _cnn() -> Detector:
    from models.cnn import CNNDetector

    return CNNDetector()


_FACTORIES: dict[str, Callable[[], Detector]] = {"cva": _cva, "gbm": _gbm, "irmad": _irmad, "ensemble": _ensemble,
                                                  "cnn": _cnn}


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
        if key == "fine":
            names = {k: AUTO_MEMBERS[k] for k in ("full", "rgb")}
            if pixel_size_m is not None and pixel_size_m >= MEDIUM_PIXEL_M:
                names["nir"] = AUTO_MEMBERS["nir"]
                names["rgb"] = AUTO_MEMBERS["rgb_medium"]
            if len(set(names.values())) == 1:
                return get_detector(names["full"])
            from models.auto import BandSetDetector

            return BandSetDetector({k: get_detector(v) for k, v in names.items()})
    base, cut = _split(key)
    det = _FACTORIES[base]()
    if cut is None:
        return det
    from models.cuts import SceneCutDetector

    return SceneCutDetector(det, cut)
