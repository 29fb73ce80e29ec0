"""Protected-zone and approved-land layers, read into standard columns.

Layers come as GeoPackage, GeoJSON or Shapefile in any CRS. Their own column names (often
Chinese survey codes such as ``ZDBH`` / ``DLMC``) and type values (``永久基本农田``) are mapped by
a :class:`ColumnMap`, built in code or read from a small YAML/JSON file with
:func:`load_column_map` (format: ``data/schemas/column_map.example.yaml``), never by editing
the data. Every problem raises :class:`~pipeline.errors.ZoneError` naming the file.

Geometry policy: null/empty geometries are dropped, invalid ones repaired with
``shapely.make_valid`` keeping only their polygonal parts, 3-D ones flattened (Z dropped); each
emits a :class:`ZoneWarning` naming the file. NaN coordinates, an unknown CRS and lon/lat
values out of range are refused.
"""
from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from pipeline.errors import ConfigError, ZoneError
from pipeline.i18n import msg

log = logging.getLogger(__name__)

ZONE_TYPES: tuple[str, ...] = (
    "permanent_basic_farmland", "general_farmland", "ecological_redline", "nature_reserve",
    "mining_prohibited", "road_corridor", "urban_planning", "other",
)
ZONE_COLUMNS: tuple[str, ...] = ("zone_id", "zone_type", "level", "unit", "name")
APPROVAL_COLUMNS: tuple[str, ...] = ("approval_no", "approved_use", "approved_on")
_REQUIRED_ZONE = ("zone_id", "zone_type", "level")
_REQUIRED_APPROVAL = ("approval_no", "approved_use")

#: Built-in zone_type value aliases (layer value -> standard type); a ColumnMap adds to these.
DEFAULT_ZONE_TYPE_ALIASES: Mapping[str, str] = MappingProxyType({
    "永久基本农田": "permanent_basic_farmland", "基本农田": "permanent_basic_farmland",
    "基本农田保护区": "permanent_basic_farmland",
    "一般耕地": "general_farmland", "耕地": "general_farmland",
    "生态保护红线": "ecological_redline", "生态红线": "ecological_redline",
    "自然保护区": "nature_reserve", "自然保护地": "nature_reserve",
    "禁采区": "mining_prohibited", "禁止开采区": "mining_prohibited",
    "道路": "road_corridor", "城镇开发边界": "urban_planning", "其他": "other",
})
#: Built-in level aliases ("一级" -> 1); plain numbers ("1", 1, 1.0) are always accepted.
DEFAULT_LEVEL_ALIASES: Mapping[str, int] = MappingProxyType({
    "一级": 1, "二级": 2, "三级": 3, "1级": 1, "2级": 2, "3级": 3,
})


class ZoneWarning(UserWarning):
    """A zones/approvals layer was usable only after dropping or repairing geometries."""


@dataclass(frozen=True)
class ColumnMap:
    """How a layer's own columns and values map onto the standard ones.

    ``columns`` maps a standard column (``zone_id``, ``zone_type``, ``level``, ``unit``,
    ``name``, ``approval_no``, ``approved_use``, ``approved_on``) to the layer's column name;
    unmapped standard columns are looked up under their own name (case-insensitively).
    ``zone_types`` / ``levels`` map layer values to standard ones, on top of the built-in
    Chinese aliases. One map can serve both the zones and the approvals layer.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    zone_types: Mapping[str, str] = field(default_factory=dict)
    levels: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def standard_columns(cls) -> tuple[str, ...]:
        """The standard columns a map may name (subclasses for other layers override this)."""
        return ZONE_COLUMNS + APPROVAL_COLUMNS

    def __post_init__(self) -> None:
        known = self.standard_columns()
        unknown = sorted(set(self.columns) - set(known))
        if unknown:
            raise ValueError(f"unknown standard column(s) {unknown}; known: {list(known)}")
        bad = sorted({v for v in self.zone_types.values() if v not in ZONE_TYPES})
        if bad:
            raise ValueError(f"zone_types maps to unknown type(s) {bad}; allowed: {list(ZONE_TYPES)}")
        if any(v not in (1, 2, 3) for v in self.levels.values()):
            raise ValueError("levels must map to 1, 2 or 3")

    def type_aliases(self) -> dict[str, str]:
        return {**DEFAULT_ZONE_TYPE_ALIASES, **{str(k).strip(): v for k, v in self.zone_types.items()}}

    def level_aliases(self) -> dict[str, int]:
        return {**DEFAULT_LEVEL_ALIASES, **{str(k).strip(): int(v) for k, v in self.levels.items()}}


def load_column_map(path: str | PathLike[str], kind: type[ColumnMap] = ColumnMap) -> ColumnMap:
    """Read a column map from YAML or JSON (top-level keys ``columns``, ``zone_types``, ``levels``);
    ``kind`` is the map class (its standard columns), :class:`ColumnMap` for zones/approvals."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(p, msg("input.column_map_missing"))
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(p, f"cannot parse column map: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(p, "column map must be a mapping with keys columns, zone_types, levels")
    extra = sorted(set(map(str, doc)) - {"columns", "zone_types", "levels"})
    if extra:
        raise ConfigError(p, f"unknown key(s) {extra}; expected columns, zone_types, levels")
    parts = {k: doc.get(k) or {} for k in ("columns", "zone_types", "levels")}
    if not all(isinstance(v, dict) for v in parts.values()):
        raise ConfigError(p, "columns, zone_types and levels must each be a mapping")
    try:
        return kind(columns={str(k): str(v) for k, v in parts["columns"].items()},
                         zone_types={str(k): str(v) for k, v in parts["zone_types"].items()},
                         levels={str(k): int(v) for k, v in parts["levels"].items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(p, str(exc)) from exc


def _read_layer(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    if not path.exists():
        raise ZoneError(path, msg("input.not_found"))
    if path.is_file() and path.stat().st_size == 0:
        raise ZoneError(path, msg("input.empty_file"))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="More than one layer found")
            frame = gpd.read_file(path, engine="pyogrio", layer=layer)
    except Exception as exc:  # pyogrio/GDAL raise several types for corrupt files
        raise ZoneError(path, msg("input.bad_layer", detail=exc)) from exc
    if len(frame) == 0:
        raise ZoneError(path, msg("input.no_features"))
    if frame.crs is None:
        raise ZoneError(path, msg("input.no_crs"))
    _check_declared_crs(path)
    if frame.crs.is_geographic:
        minx, miny, maxx, maxy = frame.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ZoneError(path, f"coordinates ({minx:.0f}, {miny:.0f}) .. ({maxx:.0f}, {maxy:.0f}) "
                                  f"are not longitude/latitude as the layer's CRS "
                                  f"{frame.crs.to_string()} says; set the layer's real CRS")
    return frame


_GEOJSON_CRS = re.compile(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]+)"')


def _check_declared_crs(path: Path) -> None:
    """A GeoJSON ``crs`` member GDAL cannot resolve is read as EPSG:4326 without a word: refuse it."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not path.is_file() or path.suffix.lower() not in (".geojson", ".json"):
        return
    with path.open("rb") as fh:
        found = _GEOJSON_CRS.search(fh.read(1 << 16))
    if found is None:
        return
    name = found.group(1).decode("utf-8", "replace")
    try:
        CRS.from_user_input(name)
    except CRSError:
        raise ZoneError(path, f"unknown CRS {name!r}; give the layer a known CRS (EPSG code)") from None


def _pick(frame: gpd.GeoDataFrame, path: Path, cmap: ColumnMap, std: str, required: bool) -> pd.Series | None:
    """The layer column that feeds standard column ``std`` (None when optional and absent)."""
    wanted = cmap.columns.get(std, std)
    if wanted in frame.columns:
        return frame[wanted]
    folded = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    if wanted.lower() in folded:
        return frame[folded[wanted.lower()]]
    if required or std in cmap.columns:
        have = [c for c in frame.columns if c != frame.geometry.name]
        raise ZoneError(path, msg("input.missing_column", wanted=wanted, std=std, have=have))
    return None


def _as_text(values: pd.Series | None, n: int) -> list[str | None]:
    if values is None:
        return [None] * n
    out: list[str | None] = []
    for v in values.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v).strip() or None)
    return out


def _clean_geometry(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Drop null/empty geometries, repair invalid ones keeping polygonal parts, warn about both."""
    geoms = frame.geometry.values
    empty = np.asarray(geoms.isna() | geoms.is_empty)
    if empty.any():
        _warn(path, f"dropped {int(empty.sum())} feature(s) with null or empty geometry")
        frame = frame.loc[~empty]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    coords = shapely.get_coordinates(geoms, include_z=False)
    if not np.isfinite(coords).all():
        raise ZoneError(path, "layer has NaN or infinite coordinates")
    if shapely.has_z(geoms).any():
        _warn(path, f"dropped the Z (height) of {int(shapely.has_z(geoms).sum())} 3-D geometry(ies)")
        geoms = shapely.force_2d(geoms)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = [_polygonal(g) for g in shapely.make_valid(geoms[invalid])]
        _warn(path, f"repaired {int(invalid.sum())} invalid geometry(ies) with shapely.make_valid")
    keep = np.array([g.geom_type in ("Polygon", "MultiPolygon") and not g.is_empty for g in geoms], bool)
    if not keep.any():
        raise ZoneError(path, msg("input.no_polygons"))
    if not keep.all():
        _warn(path, f"dropped {int((~keep).sum())} feature(s) without polygon area")
    return gpd.GeoDataFrame(frame.drop(columns=frame.geometry.name).loc[keep],
                            geometry=geoms[keep], crs=frame.crs)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polys) if polys else shapely.Polygon()


def _warn(path: Path, message: str) -> None:
    log.warning("%s: %s", path, message)
    warnings.warn(f"{path}: {message}", ZoneWarning, stacklevel=4)


def _finish(frame: gpd.GeoDataFrame, data: dict[str, Any], target_crs: Any) -> gpd.GeoDataFrame:
    cols = {k: v if isinstance(v, np.ndarray) else pd.Series(v, dtype=object) for k, v in data.items()}
    out = gpd.GeoDataFrame(cols, geometry=frame.geometry.values, crs=frame.crs)  # None stays None
    if target_crs is not None:
        out = out.to_crs(target_crs)
    return out.reset_index(drop=True)


def load_zones(path: str | PathLike[str], columns: ColumnMap | None = None,
               target_crs: Any = None, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read a protected-zone layer into ``zone_id, zone_type, level, unit, name, geometry``.

    ``zone_type`` values are standard types, built-in Chinese aliases or ``columns.zone_types``
    entries (case-insensitive); ``level`` is 1 (strictest) .. 3. ``target_crs``: reproject to it.
    """
    p, cmap = Path(path), columns or ColumnMap()
    frame = _clean_geometry(_read_layer(p, layer), p)
    n = len(frame)
    ids = _as_text(_pick(frame, p, cmap, "zone_id", True), n)
    if None in ids:
        raise ZoneError(p, msg("input.no_zone_id", count=ids.count(None)))
    aliases = {k.lower(): v for k, v in cmap.type_aliases().items()} | {t: t for t in ZONE_TYPES}
    raw_types = _as_text(_pick(frame, p, cmap, "zone_type", True), n)
    types = [aliases.get((t or "").lower()) for t in raw_types]
    unknown = sorted({str(r) for r, t in zip(raw_types, types) if t is None})
    if unknown:
        raise ZoneError(p, msg("input.unknown_zone_type", values=unknown[:5],
                               allowed=", ".join(ZONE_TYPES)))
    levels = _parse_levels(_as_text(_pick(frame, p, cmap, "level", True), n), cmap, p)
    data = {"zone_id": ids, "zone_type": types, "level": levels,
            "unit": _as_text(_pick(frame, p, cmap, "unit", False), n),
            "name": _as_text(_pick(frame, p, cmap, "name", False), n)}
    return _finish(frame, data, target_crs)


def _parse_levels(raw: list[str | None], cmap: ColumnMap, path: Path) -> np.ndarray:
    aliases = cmap.level_aliases()
    out, bad = [], set()
    for v in raw:
        level = aliases.get(v or "")
        if level is None and v is not None and re.fullmatch(r"[0-9]+(\.0+)?", v):
            level = int(float(v))
        if level not in (1, 2, 3):
            bad.add(str(v))
        out.append(level or 0)
    if bad:
        raise ZoneError(path, msg("input.bad_level", values=sorted(bad)[:5]))
    return np.asarray(out, dtype=np.int64)


def load_approvals(path: str | PathLike[str], columns: ColumnMap | None = None,
                   target_crs: Any = None, layer: str | int | None = None) -> gpd.GeoDataFrame:
    """Read an approved-land layer into ``approval_no, approved_use, approved_on, geometry``.

    ``approved_on`` is optional in the layer (None when absent or blank); values such as
    ``2020-05-01``, ``2020/5/1``, ``20200501`` or ``2020年5月1日`` become ``datetime.date``.
    An approvals file that is given but empty is an error; not giving one at all is fine.
    """
    p, cmap = Path(path), columns or ColumnMap()
    frame = _clean_geometry(_read_layer(p, layer), p)
    n = len(frame)
    numbers = _as_text(_pick(frame, p, cmap, "approval_no", True), n)
    if None in numbers:
        raise ZoneError(p, msg("input.no_approval_no", count=numbers.count(None)))
    on = _pick(frame, p, cmap, "approved_on", False)
    data = {"approval_no": numbers,
            "approved_use": _as_text(_pick(frame, p, cmap, "approved_use", True), n),
            "approved_on": [_parse_date(v, p) for v in (on.tolist() if on is not None else [None] * n)]}
    return _finish(frame, data, target_crs)


def _parse_date(value: Any, path: Path) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(int(value)) if isinstance(value, (int, float)) else str(value).strip()
    if not text:
        return None
    text = re.sub(r"[年月/.]", "-", text).rstrip("日")
    try:
        return pd.Timestamp(text).date()
    except (ValueError, TypeError) as exc:
        raise ZoneError(path, msg("input.bad_approved_on", value=repr(value))) from exc
