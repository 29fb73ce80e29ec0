"""Sensor profiles: which band of a tile plays which role, and how DN become reflectance.

A profile maps band *roles* (``blue``, ``green``, ``red``, ``nir``, ``swir1``, ``swir2``) to a
band id. The id is what names the band in a band-folder file name (Sentinel-2 ``B04``, Landsat
``B4``; matched by number, so ``B4`` == ``B04``) or, for ``rgb``/``rgbn``, the 1-based band
index in a multi-band file. For multi-band files of sensors with named bands, ``stacks`` lists
the band orders we accept by band count (a 13-band Sentinel-2 L1C stack, a 6-band Landsat TM
reflective stack, ...); band descriptions or ENVI wavelengths, when present, win over the order.

``scale`` divides digital numbers into nominal reflectance (0..1); it depends on the data type
for sensors distributed both as 8-bit and 16-bit (see :meth:`SensorProfile.scale_for`).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.errors import ConfigError, SensorError
from pipeline.i18n import msg

ROLES: tuple[str, ...] = ("blue", "green", "red", "nir", "swir1", "swir2")
CORE_ROLES: tuple[str, ...] = ("blue", "green", "red", "nir")

_BAND_TOKEN = re.compile(r"^B0*(\d{1,2})(A?)$", re.IGNORECASE)


def band_key(band_id: str | int) -> str:
    """Canonical form of a band id for matching: ``B04`` / ``b4`` / ``4`` -> ``B4``, ``B8A`` -> ``B8A``."""
    text = str(band_id).strip()
    if text.isdigit():
        return f"B{int(text)}"
    m = _BAND_TOKEN.match(text)
    return f"B{int(m.group(1))}{m.group(2).upper()}" if m else text.upper()


@dataclass(frozen=True)
class SensorProfile:
    name: str
    bands: Mapping[str, str | int]          # role -> band id (file token or 1-based index)
    scale: float                            # DN / scale = nominal reflectance, native dtype
    wavelengths: Mapping[str, float]        # role -> band centre, micrometres
    required: tuple[str, ...] = CORE_ROLES  # roles a tile of this sensor must have
    stacks: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # count -> band order
    dtype_scales: Mapping[str, float] = field(default_factory=dict)      # dtype -> scale

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(r for r in ROLES if r in self.bands)

    def scale_for(self, dtype: str | np.dtype) -> float:
        """Scale for data of ``dtype``: floats are taken as reflectance already (scale 1)."""
        dt = np.dtype(dtype)
        if dt.kind == "f":
            return 1.0
        return float(self.dtype_scales.get(dt.name, self.scale))

    def role_of_token(self, token: str) -> str | None:
        """The role whose band id matches a file-name token (``B04``, ``B8A``, ``red``)."""
        key = band_key(token)
        for role, band_id in self.bands.items():
            if isinstance(band_id, str) and band_key(band_id) == key:
                return role
        low = token.lower()
        return low if low in self.bands else None


S2_CLOUD_BANDS: tuple[str, ...] = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")
"""The Sentinel-2 L1C bands the cloud model reads (:mod:`models.cloudmask`), in its order."""

_S2_ORDER_13 = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")

PROFILES: dict[str, SensorProfile] = {
    "sentinel2": SensorProfile(
        name="sentinel2",
        bands={"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir1": "B11", "swir2": "B12"},
        scale=10000.0,
        wavelengths={"blue": 0.490, "green": 0.560, "red": 0.665, "nir": 0.842, "swir1": 1.610, "swir2": 2.190},
        stacks={
            13: _S2_ORDER_13,
            12: tuple(b for b in _S2_ORDER_13 if b != "B10"),  # L2A
            10: ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"),
            4: ("B02", "B03", "B04", "B08"),
        },
        dtype_scales={"uint8": 255.0},
    ),
    "landsat-tm": SensorProfile(
        name="landsat-tm",
        bands={"blue": "B1", "green": "B2", "red": "B3", "nir": "B4", "swir1": "B5", "swir2": "B7"},
        scale=255.0,
        wavelengths={"blue": 0.485, "green": 0.560, "red": 0.660, "nir": 0.830, "swir1": 1.650, "swir2": 2.215},
        stacks={6: ("B1", "B2", "B3", "B4", "B5", "B7"), 7: ("B1", "B2", "B3", "B4", "B5", "B6", "B7")},
        # Collection-2 16-bit products: reflectance ~ DN * 2e-5 (the -0.1 offset is ignored)
        dtype_scales={"uint8": 255.0, "uint16": 50000.0},
    ),
    "landsat-etm": SensorProfile(
        name="landsat-etm",
        bands={"blue": "B1", "green": "B2", "red": "B3", "nir": "B4", "swir1": "B5", "swir2": "B7"},
        scale=255.0,
        wavelengths={"blue": 0.483, "green": 0.560, "red": 0.662, "nir": 0.835, "swir1": 1.648, "swir2": 2.206},
        stacks={6: ("B1", "B2", "B3", "B4", "B5", "B7"), 7: ("B1", "B2", "B3", "B4", "B5", "B6", "B7")},
        dtype_scales={"uint8": 255.0, "uint16": 50000.0},
    ),
    "landsat-oli": SensorProfile(
        name="landsat-oli",
        bands={"blue": "B2", "green": "B3", "red": "B4", "nir": "B5", "swir1": "B6", "swir2": "B7"},
        scale=50000.0,
        wavelengths={"blue": 0.482, "green": 0.561, "red": 0.655, "nir": 0.865, "swir1": 1.609, "swir2": 2.201},
        stacks={7: ("B1", "B2", "B3", "B4", "B5", "B6", "B7"), 6: ("B2", "B3", "B4", "B5", "B6", "B7")},
        dtype_scales={"uint8": 255.0, "uint16": 50000.0},
    ),
    # drone / aerial photos: bands 1-3 = red, green, blue
    "rgb": SensorProfile(
        name="rgb",
        bands={"red": 1, "green": 2, "blue": 3},
        scale=255.0,
        wavelengths={"blue": 0.47, "green": 0.55, "red": 0.65},
        required=("red", "green", "blue"),
        dtype_scales={"uint8": 255.0, "uint16": 65535.0},
    ),
    # 4-band multispectral in the GF-1/GF-2/ZY-3/PlanetScope order: blue, green, red, NIR
    "rgbn": SensorProfile(
        name="rgbn",
        bands={"blue": 1, "green": 2, "red": 3, "nir": 4},
        scale=255.0,
        wavelengths={"blue": 0.485, "green": 0.555, "red": 0.660, "nir": 0.830},
        dtype_scales={"uint8": 255.0, "uint16": 10000.0},
    ),
}


def get_profile(name: str | SensorProfile) -> SensorProfile:
    if isinstance(name, SensorProfile):
        return name
    key = str(name).strip().lower().replace("_", "-")
    key = {"s2": "sentinel2", "sentinel-2": "sentinel2"}.get(key, key)
    if key not in PROFILES:
        raise ConfigError("--sensor", msg("input.unknown_sensor", name=repr(name), choices=", ".join(PROFILES)))
    return PROFILES[key]


# --- guessing ---------------------------------------------------------------------------------

_LANDSAT_ID = re.compile(r"(?<![A-Z0-9])L([TEMCO])0?([4-9])(?:\d{6}\d{7}|_L)", re.IGNORECASE)
_S2_TEXT = re.compile(
    r"(?<![A-Z0-9])S2[ABCD]_|MSIL[12][AC]|(?<![A-Z0-9])T\d{2}[A-Z]{3}_\d{8}T\d{6}|SENTINEL[-_ ]?2",
    re.IGNORECASE,
)
_S2_FILE_BAND = re.compile(r"[_\-.]B(0\d|1[0-2]|8A)(?:[_\-.]|$)", re.IGNORECASE)


def _landsat_from_text(text: str) -> str | None:
    m = _LANDSAT_ID.search(text)
    if m:
        letter, sat = m.group(1).upper(), int(m.group(2))
        if letter in "CO" or sat >= 8:
            return "landsat-oli"
        return "landsat-etm" if letter == "E" or sat == 7 else "landsat-tm"
    if re.search(r"\bOLI\b", text):
        return "landsat-oli"
    if re.search(r"\bETM\+?(?![A-Z])", text):
        return "landsat-etm"
    if re.search(r"\bTM\b|LANDSAT[-_ ]?[45]\b", text, re.IGNORECASE):
        return "landsat-tm"
    return None


def _from_wavelengths(wavelengths: Sequence[float], band_count: int) -> str | None:
    wl = [w for w in wavelengths if w and np.isfinite(w)]
    if len(wl) != band_count or not wl:
        return None
    if max(wl) > 100:  # nanometres
        wl = [w / 1000.0 for w in wl]

    def has(c: float, tol: float = 0.03) -> bool:
        return any(abs(w - c) <= tol for w in wl)

    swir = has(1.63, 0.08)
    if has(0.705, 0.012) and has(0.740, 0.012) and has(0.783, 0.012):
        return "sentinel2"
    if swir and has(0.443, 0.012) and band_count in PROFILES["landsat-oli"].stacks:
        return "landsat-oli"
    if swir and band_count in (6, 7):
        return "landsat-tm"
    if not swir and band_count == 4 and has(0.84, 0.06):
        return "rgbn"
    if not swir and band_count == 3 and max(wl) < 0.7:
        return "rgb"
    return None


def guess_sensor(
    band_names: Sequence[str | None] = (),
    wavelengths: Sequence[float] = (),
    file_names: Sequence[str] = (),
    band_count: int | None = None,
    dtype: str | None = None,
    *,
    hints: Sequence[str] = (),
    source: str | None = None,
) -> SensorProfile:
    """Best guess of the profile, strongest evidence first.

    1. product ids / names in file names (Landsat ``LT5..``/``LE7..``/``LC8..``, Sentinel-2
       ``S2A_..``, ``T40QBM_20180328T065919_B01``, band files ``*_B8A.tif``);
    2. free-text metadata (``hints``: ENVI ``sensor type``, TIFF tags) and band names;
    3. band centre wavelengths (ENVI ``wavelength``);
    4. band count alone: 3 -> rgb, 4 -> rgbn.
    ``dtype`` is accepted for symmetry with the metadata it comes from; the scale is picked per
    dtype later by :meth:`SensorProfile.scale_for`.
    """
    names = " ".join(str(n) for n in file_names)
    landsat = _landsat_from_text(names)
    if landsat:
        return PROFILES[landsat]
    if _S2_TEXT.search(names) or len({m.group(1).upper() for m in map(_S2_FILE_BAND.search, file_names) if m}) >= 4:
        return PROFILES["sentinel2"]
    text = " ".join(str(h) for h in (*hints, *band_names) if h)
    landsat = _landsat_from_text(text)
    if landsat:
        return PROFILES[landsat]
    if _S2_TEXT.search(text) or re.search(r"\bMSI\b", text):
        return PROFILES["sentinel2"]
    count = band_count if band_count is not None else max(len(band_names), len(wavelengths))
    by_wl = _from_wavelengths(wavelengths, count) if count else None
    if by_wl:
        return PROFILES[by_wl]
    lowered = {str(n).strip().lower() for n in band_names if n}
    # bands named beyond red, green, blue and nir (swir1, swir2): rgb/rgbn would leave them
    # unused without a word, so the sensor is asked for instead, as for any 6-band raster
    if {"red", "green", "blue"} <= lowered and not lowered & {"swir1", "swir2", "swir 1", "swir 2"}:
        return PROFILES["rgbn" if lowered & {"nir", "near infrared", "near-infrared"} else "rgb"]
    if count == 3:
        return PROFILES["rgb"]
    if count == 4:
        return PROFILES["rgbn"]
    raise SensorError(source, msg("input.sensor_unknown_raster", count=count, dtype=dtype or "",
                                  choices=" | ".join(PROFILES)))


# --- band roles in a multi-band file ------------------------------------------------------------

_DESC_BAND = re.compile(r"\bB(?:and)?[ _]?0*(\d{1,2}A?)\b", re.IGNORECASE)
_ALIASES = {"near infrared": "nir", "near-infrared": "nir", "swir 1": "swir1", "swir 2": "swir2"}


def _ids_from_descriptions(descriptions: Sequence[str | None], count: int) -> list[str | None]:
    """Band key named by each description (``B04``, ``Band 4``, ``red``), or None."""
    out: list[str | None] = []
    for d in descriptions:
        text = (d or "").strip()
        low = _ALIASES.get(text.lower(), text.lower())
        if low in ROLES:
            out.append(low)
            continue
        m = _DESC_BAND.search(text)
        out.append(band_key("B" + m.group(1)) if m else None)
    if out == [f"B{i}" for i in range(1, count + 1)]:
        return [None] * count  # GDAL-style "Band 1..n" says nothing about the sensor's bands
    return out


def band_indexes(
    profile: SensorProfile,
    band_count: int,
    descriptions: Sequence[str | None] = (),
    wavelengths: Sequence[float] = (),
    source: str | None = None,
) -> dict[str, int]:
    """Role -> 1-based band index for a multi-band file, or :class:`SensorError`.

    Evidence in order: band descriptions naming every required band (``B04``, ``Band 4``,
    ``red``); the profile's band order for this band count (refined by wavelengths, when the file
    has one per band); integer ids of ``rgb``/``rgbn``.
    """
    ids = _ids_from_descriptions(descriptions, band_count) if descriptions else []
    found: dict[str, int] = {}
    for role, band_id in profile.bands.items():
        wanted = {role} if isinstance(band_id, int) else {role, band_key(band_id)}
        hits = [i + 1 for i, key in enumerate(ids) if key in wanted]
        if hits:
            found[role] = hits[0]
    # A fixed-layout sensor (Landsat: 6 or 7 bands) with another band count is only accepted
    # when the descriptions name every one of its bands; a 4-band file is not a TM scene.
    fits_layout = not profile.stacks or band_count in profile.stacks or all(r in found for r in profile.bands)
    if all(r in found for r in profile.required) and fits_layout:
        return found
    order = profile.stacks.get(band_count)
    if order is not None:
        keys = [band_key(b) for b in order]
        mapping = {role: keys.index(band_key(b)) + 1 for role, b in profile.bands.items() if band_key(b) in keys}
        return _refine_by_wavelength(profile, mapping, wavelengths)
    ints = {role: b for role, b in profile.bands.items() if isinstance(b, int)}
    if ints and all(b <= band_count for b in ints.values()) and band_count <= max(ints.values()) + 1:
        return _refine_by_wavelength(profile, dict(ints), wavelengths)
    counts = sorted(profile.stacks) if profile.stacks else [max(ints.values())]
    missing = [f"{r} ({profile.bands[r]})" for r in profile.required if r not in found]
    raise SensorError(source, msg("input.sensor_band_count", count=band_count, sensor=profile.name,
                                  counts=" or ".join(map(str, counts)), missing=", ".join(missing)))


def cloud_band_indexes(profile: SensorProfile, band_count: int,
                       descriptions: Sequence[str | None] = ()) -> dict[str, int] | None:
    """Band id -> 1-based index of every :data:`S2_CLOUD_BANDS` band in a multi-band Sentinel-2
    file (by descriptions naming them, else the profile's band order for this count), or None
    when any is missing (a 12-band L2A stack has no B10)."""
    if profile.name != "sentinel2":
        return None
    ids = _ids_from_descriptions(descriptions, band_count) if descriptions else []
    wanted = [band_key(b) for b in S2_CLOUD_BANDS]
    if all(k in ids for k in wanted):
        return {b: ids.index(k) + 1 for b, k in zip(S2_CLOUD_BANDS, wanted)}
    order = [band_key(b) for b in profile.stacks.get(band_count, ())]
    if all(k in order for k in wanted) and not any(ids):
        return {b: order.index(k) + 1 for b, k in zip(S2_CLOUD_BANDS, wanted)}
    return None


def _refine_by_wavelength(
    profile: SensorProfile, mapping: dict[str, int], wavelengths: Sequence[float]
) -> dict[str, int]:
    """When every band has a centre wavelength, take for each role the band nearest its centre."""
    wl = [float(w) if w else float("nan") for w in wavelengths]
    if not wl or not all(np.isfinite(wl)):
        return mapping
    if max(wl) > 100:
        wl = [w / 1000.0 for w in wl]
    out = dict(mapping)
    for role in mapping:
        centre = profile.wavelengths[role]
        best = int(np.argmin([abs(w - centre) for w in wl]))
        if abs(wl[best] - centre) <= max(0.04, 0.08 * centre):
            out[role] = best + 1
    return out
