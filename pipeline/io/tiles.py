"""Opening a tile: one raster in any GDAL format, or a folder of single-band files named by band.

A *tile* is either a single raster (GeoTIFF/COG, ENVI data file with its ``<name>.hdr``, ...) or
a folder of single-band files whose names carry the band (``..._B04.tif``, ``B8A.jp2``,
``red.tif``), as in Sentinel-2 products. Band files may differ in resolution (10/20/60 m); each
band records its own file and resolution and the tile's grid is its finest band.

Cloud convention: a band or file whose name carries ``CLD``/``CLDPRB``/``prob`` is a cloud
probability (0-100, cloudy where >= 40); ``SCL`` is a Sentinel-2 scene classification (cloudy
where 3, 8, 9, 10: shadow, medium/high probability, cirrus); any other ``cloud``/``mask`` name
is a mask (cloudy where > 0). In a folder it is any such file; beside a single raster it is a
sibling file starting with the raster's stem (``scene_cloud.tif``).

Nodata: a band's declared nodata value and GDAL masks are honoured when reading
(:mod:`pipeline.align`); 8/16-bit imagery with no nodata declared has no nodata (0 is data).

Acquisition date, strongest first: the ``acquired`` argument; acquisition tags in metadata
(ENVI ``acquisition time``, ``ACQUISITION_DATE``, ``DATE_ACQUIRED``, ``SENSING_TIME``); dates in
file or folder names (:func:`pipeline.io.dates.date_from_name`); ``TIFFTAG_DATETIME``.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp
from rasterio.errors import RasterioError
from rasterio.windows import Window

from pipeline.errors import ConfigError, SensorError, TileError
from pipeline.grid import Grid
from pipeline.i18n import msg
from pipeline.io.dates import date_from_metadata, date_from_name
from pipeline.sensors import (
    S2_CLOUD_BANDS,
    SensorProfile,
    band_indexes,
    band_key,
    cloud_band_indexes,
    get_profile,
    guess_sensor,
)

CLOUD_PROBABILITY_MIN = 40
SCL_CLOUD_CLASSES = (3, 8, 9, 10)
_RASTER_SUFFIXES = {".tif", ".tiff", ".jp2", ".img", ".vrt", ".dat", ".bsq", ".bil", ".bip", ""}
_TOKEN_SPLIT = re.compile(r"[_\-.\s]+")
_DATE_TAGS = ("ACQUISITION_DATE", "ACQUISITION_TIME", "DATE_ACQUIRED", "SENSING_TIME",
              "SENSING_DATE", "DATATAKE_SENSING_START", "ACQUISITIONDATE")


@dataclass(frozen=True)
class BandRef:
    """Where one band lives: file, 1-based band index, native resolution, how to read it."""

    path: Path
    index: int
    res: tuple[float, float]
    dtype: str
    nodata: float | None
    scale: float = 1.0            # DN / scale = reflectance (cloud bands: 1)
    kind: str = "reflectance"     # or cloud_probability | cloud_mask | scl


@dataclass(frozen=True)
class Tile:
    path: Path
    sensor: str                   # profile name, e.g. "sentinel2" (JSON-friendly)
    acquired: date
    bands: Mapping[str, BandRef]
    cloud: BandRef | None
    crs: CRS
    transform: Affine
    width: int
    height: int
    nodata: float | None
    files: tuple[Path, ...] = ()  # every file the tile reads (hashed by tile_hash)
    date_source: str = "argument"
    profile: SensorProfile | None = None  # the full profile named by ``sensor``
    own_date: date | None = None  # the tile's own date (metadata, name), even when overridden
    # Sentinel-2 L1C without a cloud layer of its own: the cloud model's bands (id -> ref), in
    # ``files`` too; empty otherwise, ``cloud_note`` then says why (pipeline.clouds)
    cloud_bands: Mapping[str, BandRef] = field(default_factory=dict)
    cloud_note: str = ""

    def __post_init__(self) -> None:
        if self.profile is None:
            object.__setattr__(self, "profile", get_profile(self.sensor))

    @property
    def grid(self) -> Grid:
        """The tile's native grid (its finest band), in its own CRS."""
        return Grid(self.crs, self.transform, self.width, self.height)


def cloud_kind(name: str) -> str | None:
    """Kind of cloud layer a file/band name announces (see module docstring), or None."""
    tokens = [t for t in _TOKEN_SPLIT.split(name) if t]
    upper = [t.upper() for t in tokens]
    prob = any("PROB" in t or "PRB" in t for t in upper)
    if "SCL" in upper:
        return "scl"
    if any(t in ("CLD", "CLP") or t.startswith("CLDPRB") for t in upper):
        return "cloud_probability"
    if any(t.startswith("CLOUD") for t in upper):
        return "cloud_probability" if prob else "cloud_mask"
    if any(t in ("CLM", "CLOUDMASK") for t in upper):
        return "cloud_mask"
    return None


def open_tile(
    path: str | os.PathLike[str],
    sensor: str | SensorProfile | None = None,
    acquired: date | str | None = None,
) -> Tile:
    """Open, check and describe a tile; raise :class:`TileError`/:class:`SensorError` naming it.

    Every band the tile uses is opened and its first and last blocks decoded, so truncated or
    corrupt files fail here and not halfway through a run.
    """
    p = Path(path)
    if p.suffix.lower() == ".hdr" and p.with_suffix("").is_file():
        p = p.with_suffix("")  # ENVI: the header was named instead of its data file
    if not p.exists():
        raise TileError(p, msg("input.tile_missing"))
    profile = get_profile(sensor) if sensor is not None else None
    when = _parse_date_arg(acquired)
    opener = _open_folder if p.is_dir() else _open_file
    parts = opener(p, profile)
    found = parts.pop("guessed_date")
    if when is not None:
        acquired_on, source = when, "argument"
    elif found is not None:
        acquired_on, source = found
    else:
        raise TileError(p, msg("input.tile_no_date"))
    own = found[0] if found is not None else None
    return Tile(path=p, acquired=acquired_on, date_source=source, own_date=own, **parts)


def _parse_date_arg(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    got = date_from_metadata(str(value))
    if got is None:
        raise ConfigError(str(value), msg("input.not_a_date"))
    return got


def _family(name: str) -> str:
    return "landsat" if name.startswith("landsat") else name


def _check_family(p: Path, profile: SensorProfile, names: list[str]) -> None:
    """An explicit sensor contradicted by product names (Landsat ids, Sentinel-2 names)."""
    try:
        named = guess_sensor(file_names=names, band_count=0)
    except SensorError:
        return
    if named.name not in ("rgb", "rgbn") and _family(named.name) != _family(profile.name):
        raise SensorError(p, msg("input.sensor_names_disagree", sensor=profile.name, named=named.name))


def _open_ds(path: Path) -> rasterio.DatasetReader:
    try:
        return rasterio.open(path)
    except RasterioError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TileError(path, msg("input.tile_unreadable", detail=detail)) from exc


def _check_georef(path: Path, ds: rasterio.DatasetReader) -> None:
    if ds.crs is None:
        raise TileError(path, msg("input.tile_no_crs"))
    if ds.transform == Affine.identity() and not ds.gcps[0]:
        raise TileError(path, msg("input.tile_no_transform"))


def _check_decodes(path: Path, ds: rasterio.DatasetReader, indexes: list[int]) -> None:
    """Decode the first and last block of each band; check raw formats' byte count."""
    if ds.driver in ("ENVI", "EHdr"):
        offset = int(ds.tags(ns="ENVI").get("header_offset", 0) or 0) if ds.driver == "ENVI" else 0
        need = offset + ds.width * ds.height * ds.count * np.dtype(ds.dtypes[0]).itemsize
        have = os.path.getsize(ds.files[0])
        if have < need:
            raise TileError(path, msg("input.tile_truncated", driver=ds.driver, have=have, need=need))
    for bidx in indexes:
        bh, bw = ds.block_shapes[bidx - 1]
        last = Window((ds.width - 1) // bw * bw, (ds.height - 1) // bh * bh, 0, 0)
        last = Window(last.col_off, last.row_off, ds.width - last.col_off, ds.height - last.row_off)
        for win in (Window(0, 0, min(bw, ds.width), min(bh, ds.height)), last):
            try:
                ds.read(bidx, window=win)
            except RasterioError as exc:
                cause = exc.__cause__ or exc.__context__ or exc
                detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
                raise TileError(path, msg("input.band_undecodable", band=bidx, detail=detail)) from exc


def _files_of(ds: rasterio.DatasetReader) -> list[Path]:
    return [Path(f) for f in ds.files if not f.endswith(".aux.xml")]


def _metadata_dates(ds: rasterio.DatasetReader) -> tuple[tuple[date, str] | None, tuple[date, str] | None]:
    """(acquisition date from acquisition tags, date from TIFFTAG_DATETIME)."""
    tags = {k.upper(): v for k, v in ds.tags().items()}
    tags.update({k.upper(): v for k, v in ds.tags(ns="ENVI").items()} if ds.driver == "ENVI" else {})
    for key in _DATE_TAGS:
        got = date_from_metadata(tags.get(key, ""))
        if got:
            return (got, f"metadata {key.lower()}"), None
    got = date_from_metadata(tags.get("TIFFTAG_DATETIME", ""))
    return None, ((got, "metadata tifftag_datetime") if got else None)


def _pick_date(meta: tuple | None, names: list[str], tiff: tuple | None) -> tuple[date, str] | None:
    if meta:
        return meta
    for name in names:
        got = date_from_name(name)
        if got:
            return got
    return tiff


def _band_ref(path: Path, ds: rasterio.DatasetReader, idx: int, kind: str, profile: SensorProfile) -> BandRef:
    dtype = ds.dtypes[idx - 1]
    scale = profile.scale_for(dtype) if kind == "reflectance" else 1.0
    return BandRef(path, idx, (abs(ds.transform.a), abs(ds.transform.e)), dtype, ds.nodatavals[idx - 1], scale, kind)


def _hints(ds: rasterio.DatasetReader) -> list[str]:
    tags = dict(ds.tags())
    if ds.driver == "ENVI":
        tags.update({f"ENVI_{k}": v for k, v in ds.tags(ns="ENVI").items() if k in ("sensor_type", "description")})
    return [v for k, v in tags.items() if re.search(r"SENSOR|SATELLITE|SPACECRAFT|PLATFORM|MISSION|DESCRIPTION", k, re.I)]


def _wavelengths(ds: rasterio.DatasetReader) -> list[float]:
    out = []
    for i in range(1, ds.count + 1):
        try:
            out.append(float(ds.tags(i).get("wavelength", "nan")))
        except ValueError:
            out.append(float("nan"))
    return out


def _open_file(p: Path, profile: SensorProfile | None) -> dict:
    with _open_ds(p) as ds:
        _check_georef(p, ds)
        descs = list(ds.descriptions)
        cloud_idx = [i + 1 for i, d in enumerate(descs) if d and cloud_kind(d)]
        alpha = [i + 1 for i, ci in enumerate(ds.colorinterp) if ci == ColorInterp.alpha]  # a mask GDAL applies
        spectral = [i for i in range(1, ds.count + 1) if i not in cloud_idx and i not in alpha]
        wls = [w for i, w in enumerate(_wavelengths(ds), 1) if i in spectral]
        names = [p.name, p.parent.name]
        if profile is None:
            profile = guess_sensor([descs[i - 1] for i in spectral], wls, [p.name], len(spectral),
                                   ds.dtypes[0], hints=_hints(ds), source=str(p))
        else:
            _check_family(p, profile, [p.name])
        local = band_indexes(profile, len(spectral), [descs[i - 1] for i in spectral], wls, source=str(p))
        bands = {role: _band_ref(p, ds, spectral[i - 1], "reflectance", profile) for role, i in local.items()}
        cloud = _band_ref(p, ds, cloud_idx[0], cloud_kind(descs[cloud_idx[0] - 1]) or "cloud_mask", profile) if cloud_idx else None
        cloud_bands: dict[str, BandRef] = {}
        cloud_note = ""
        if cloud is None:
            found = cloud_band_indexes(profile, len(spectral), [descs[i - 1] for i in spectral])
            cloud_bands = {b: _band_ref(p, ds, spectral[i - 1], "reflectance", profile)
                           for b, i in (found or {}).items()}
            cloud_note = "" if found else _no_cloud_bands_note(profile, f"a {len(spectral)}-band file")
        used = {b.index for b in bands.values()} | ({cloud.index} if cloud else set())
        used |= {b.index for b in cloud_bands.values()}
        _check_decodes(p, ds, sorted(used))
        meta, tiff = _metadata_dates(ds)
        files = _files_of(ds)
        parts = dict(sensor=profile.name, profile=profile, bands=bands, crs=ds.crs, transform=ds.transform, width=ds.width,
                     height=ds.height, nodata=ds.nodata)
    if cloud is None:
        cloud, extra = _sidecar_cloud(p, profile)
        files += extra
    if cloud is not None:
        cloud_bands, cloud_note = {}, ""
    parts.update(cloud=cloud, files=tuple(files), guessed_date=_pick_date(meta, names, tiff),
                 cloud_bands=cloud_bands, cloud_note=cloud_note)
    return parts


def _no_cloud_bands_note(profile: SensorProfile, what: str, missing: list[str] | None = None) -> str:
    """Why a tile without a cloud layer gets no computed one (shown in the run's summary)."""
    if profile.name != "sentinel2":
        return f"no cloud layer; masks are computed for Sentinel-2 L1C only (sensor {profile.name})"
    lacking = ", ".join(missing) if missing else "some of " + ", ".join(S2_CLOUD_BANDS)
    hint = " (an L2A product: give its SCL file)" if missing is None or "B10" in missing else ""
    return f"no cloud layer, and {what} lacks {lacking} that the L1C cloud model needs{hint}"


def _folder_cloud_bands(files: list[Path], profile: SensorProfile) -> tuple[dict[str, Path], str]:
    """The cloud model's band files of a Sentinel-2 folder, or ({}, why not)."""
    if profile.name != "sentinel2":
        return {}, _no_cloud_bands_note(profile, "the folder")
    by_key: dict[str, Path] = {}
    for f in files:
        token = _band_token(f.stem, profile)
        if token and not cloud_kind(f.stem):
            by_key.setdefault(band_key(token), f)
    missing = [b for b in S2_CLOUD_BANDS if band_key(b) not in by_key]
    if missing:
        return {}, _no_cloud_bands_note(profile, "the folder", missing)
    return {b: by_key[band_key(b)] for b in S2_CLOUD_BANDS}, ""


def _sidecar_cloud(p: Path, profile: SensorProfile) -> tuple[BandRef | None, list[Path]]:
    for sib in sorted(p.parent.iterdir()):
        if sib != p and sib.is_file() and sib.name.startswith(p.stem) and sib.suffix.lower() in _RASTER_SUFFIXES:
            kind = cloud_kind(sib.name[len(p.stem):])
            if kind:
                with _open_ds(sib) as ds:
                    _check_georef(sib, ds)
                    _check_decodes(sib, ds, [1])
                    return _band_ref(sib, ds, 1, kind, profile), _files_of(ds)
    return None, []



def _band_token(stem: str, profile: SensorProfile | None) -> str | None:
    """The band named by a file stem: last token like ``B04``/``B8A``/``red``."""
    for token in reversed(_TOKEN_SPLIT.split(stem)):
        if re.fullmatch(r"B\d{1,2}A?", token, re.IGNORECASE) or token.lower() in ("blue", "green", "red", "nir", "swir1", "swir2"):
            return token
    return None


def _open_folder(p: Path, profile: SensorProfile | None) -> dict:
    files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in _RASTER_SUFFIXES)
    band_files = {f: t for f in files if not cloud_kind(f.stem) and (t := _band_token(f.stem, profile))}
    cloud_files = [f for f in files if cloud_kind(f.stem)]
    if not band_files:
        raise TileError(p, msg("input.no_band_files"))
    names = [f.name for f in band_files]
    if profile is None:
        profile = guess_sensor(list(band_files.values()), (), names, len(band_files), None, source=str(p))
    else:
        _check_family(p, profile, names)
    by_role: dict[str, Path] = {}
    for f, token in band_files.items():
        role = profile.role_of_token(token)
        if role and role not in by_role:
            by_role[role] = f
    missing = [f"{r} ({profile.bands[r]})" for r in profile.required if r not in by_role]
    if missing:
        raise SensorError(p, msg("input.band_files_missing", bands=", ".join(missing), sensor=profile.name,
                                 example=profile.bands[profile.required[0]]))
    bands: dict[str, BandRef] = {}
    all_files: list[Path] = []
    meta: tuple[date, str] | None = None
    tiff: tuple[date, str] | None = None
    finest: tuple[float, str, dict] | None = None
    for role in profile.roles:
        if role not in by_role:
            continue
        f = by_role[role]
        with _open_ds(f) as ds:
            _check_georef(f, ds)
            _check_decodes(f, ds, [1])
            bands[role] = _band_ref(f, ds, 1, "reflectance", profile)
            all_files += _files_of(ds)
            m, dt = _metadata_dates(ds)
            meta, tiff = meta or m, tiff or dt
            area = abs(ds.transform.a * ds.transform.e)
            if finest is None or area < finest[0]:
                finest = (area, role, dict(crs=ds.crs, transform=ds.transform, width=ds.width,
                                           height=ds.height, nodata=ds.nodata))
    cloud = None
    if cloud_files:
        f = cloud_files[0]
        with _open_ds(f) as ds:
            _check_georef(f, ds)
            _check_decodes(f, ds, [1])
            cloud = _band_ref(f, ds, 1, cloud_kind(f.stem) or "cloud_mask", profile)
            all_files += _files_of(ds)
    cloud_bands: dict[str, BandRef] = {}
    cloud_note = ""
    if cloud is None:
        model_files, cloud_note = _folder_cloud_bands(files, profile)
        for band, f in model_files.items():
            with _open_ds(f) as ds:
                if f not in all_files:
                    _check_georef(f, ds)
                    _check_decodes(f, ds, [1])
                    all_files += _files_of(ds)
                cloud_bands[band] = _band_ref(f, ds, 1, "reflectance", profile)
    assert finest is not None
    return dict(sensor=profile.name, profile=profile, bands=bands, cloud=cloud, files=tuple(all_files),
                guessed_date=_pick_date(meta, [*names, p.name], tiff), cloud_bands=cloud_bands,
                cloud_note=cloud_note, **finest[2])


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes, streamed; cached per (path, size, mtime)."""
    st = os.stat(path)
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            while block := fh.read(chunk):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def tile_hash(tile: Tile) -> str:
    """Content hash of a tile: a one-file tile's own sha256; else sha256 over the files' digests
    in file-name order (so moving or renaming the folder keeps the hash)."""
    files = sorted(set(tile.files), key=lambda f: (f.name, str(f)))
    if len(files) == 1:
        return file_sha256(files[0])
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}:{file_sha256(f)}\n".encode())
    return h.hexdigest()
