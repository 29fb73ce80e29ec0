"""A region: the dated tiles of one area plus the layers that decide which changes matter there.

A region is either a folder (layout in ``data/README.md``)::

    <region>/tiles/...  zones.geojson|gpkg|shp  [approvals.*]  [patrol_zones.*]  [region.yaml]

or a STAC ItemCollection JSON file (see :func:`_load_stac`). :func:`load_region` only lists
tiles and finds their acquisition dates; it opens no pixels. A date in a tile's file name wins
(no I/O, :func:`pipeline.io.dates.date_from_name`); a tile without one is opened with
:func:`pipeline.io.tiles.open_tile` for its metadata date. A region may span several tiles of a
date (MGRS tiles, by the footprint id in their names or STAC properties, :mod:`pipeline.tileids`):
each footprint is paired with its own earlier tile. Two tiles of one date and one footprint are
an error naming both: the pair between them is meaningless.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError, TileError, ZoneError
from pipeline.i18n import msg
from pipeline.tileids import check_tiles, name_tile, stac_tile, tile_pattern
from pipeline.timeutil import to_china

RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".jp2", ".img", ".vrt", ".nc", ".dat", ".bsq"})
LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
_CODE_RE = re.compile(r"^[A-Z0-9]{1,12}$")


@dataclass(frozen=True)
class TileEntry:
    """One dated tile of a region. ``path`` is a raster file or a folder of single-band files;
    ``band_paths`` (band/asset key -> file) is set when a STAC Item lists per-band assets."""

    path: Path
    acquired: date
    sensor: str | None = None
    band_paths: Mapping[str, Path] | None = None
    id: str = ""
    #: footprint id (MGRS tile ``50RPV``...); ``""`` in a region of one footprint
    tile: str = ""

    @property
    def label(self) -> str:
        return self.id or self.path.name


@dataclass(frozen=True)
class Region:
    name: str
    code: str                      # upper-case [A-Z0-9], used in lead codes (NJ-2002-0001)
    root: Path                     # the region folder, or the STAC JSON file
    tiles: tuple[TileEntry, ...]   # in date order (then footprint), one per date and footprint
    zones_path: Path
    approvals_path: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)  # region.yaml as read
    # responsibility zones (分片包干: code, name, level, unit, persons) the region flow puts
    # into the ledger before its pairs run, so new leads are assigned to their team
    patrol_zones_path: Path | None = None

    @property
    def sensor(self) -> str | None:
        return self.config.get("sensor")

    @property
    def tile_ids(self) -> tuple[str, ...]:
        """The footprints of a region of several tiles; ``()`` for a region of one."""
        ids = sorted({t.tile for t in self.tiles} - {""})
        return tuple(ids) if len(ids) > 1 else ()


def region_code(name: str) -> str:
    """Default lead-code prefix: the ASCII letters and digits of ``name``, upper-cased, <= 8."""
    code = re.sub(r"[^A-Za-z0-9]", "", name).upper()[:8]
    return code or "REGION"


def load_region(path: str | Path) -> Region:
    """Region from a folder or a STAC ItemCollection JSON. Raises ``TileError`` (no tiles),
    ``ConfigError`` (bad region.yaml, two tiles on one date), ``ZoneError`` (no zones layer)."""
    path = Path(path).resolve()
    if path.is_file() and path.suffix.lower() == ".json":
        return _load_stac(path)
    if not path.is_dir():
        raise ConfigError(path, msg("input.not_region"))
    config = _read_config(path / "region.yaml")
    sensor = config.get("sensor")
    tiles_dir = path / str(config.get("tiles", "tiles"))
    if not tiles_dir.is_dir():
        if "tiles" in config:
            raise TileError(tiles_dir, msg("input.no_tiles_dir"))
        tiles_dir = path  # tiles may also lie directly in the region folder
    candidates = _tile_candidates(tiles_dir)
    if not candidates:
        raise TileError(tiles_dir, msg("input.no_tiles"))
    pattern = tile_pattern(config, path / "region.yaml")
    tiles = [TileEntry(p, _tile_date(p, sensor), sensor, None, p.name, name_tile(p.name, pattern))
             for p in candidates]
    return _build(path, path.name, config, tiles, path)


def successive_pairs(region: Region) -> list[tuple[TileEntry, TileEntry]]:
    """(t0, t1), (t1, t2), ... of each footprint, in date order (then footprint id); ``[]`` for
    a region with one date. Pairs of one date window (several footprints) are adjacent."""
    tiles = _check_dates(sorted(region.tiles, key=_order), region.root)
    several = bool(region.tile_ids)
    by_tile: dict[str, list[TileEntry]] = {}
    for t in tiles:
        by_tile.setdefault(t.tile if several else "", []).append(t)
    pairs = [pair for own in by_tile.values() for pair in zip(own[:-1], own[1:])]
    return sorted(pairs, key=lambda p: (p[1].acquired, p[0].acquired, p[1].tile))


def _order(t: TileEntry) -> tuple[date, str]:
    return t.acquired, t.tile


# --- folder regions -------------------------------------------------------------------------

def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(path, msg("input.bad_yaml", detail=exc.__class__.__name__)) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, msg("input.not_mapping"))
    return data


def _tile_candidates(folder: Path) -> list[Path]:
    """Raster files, ENVI files (no suffix, ``.hdr`` beside them) and band folders, by name."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            if any(c.suffix.lower() in RASTER_SUFFIXES for c in p.iterdir()):
                out.append(p)
        elif p.suffix.lower() in RASTER_SUFFIXES or (
            p.suffix == "" and p.with_name(p.name + ".hdr").exists()
        ):
            out.append(p)
    return out


def _tile_date(path: Path, sensor: str | None) -> date:
    """The date in the file name (no I/O), else the tile's metadata date."""
    from pipeline.io.dates import date_from_name
    from pipeline.io.tiles import open_tile

    found = date_from_name(path.name)
    if found is not None:
        return found[0]
    return open_tile(path, sensor=sensor).acquired


def _find_layer(root: Path, config: Mapping[str, Any], key: str) -> Path | None:
    if key in config:
        p = root / str(config[key])
        if not p.exists():
            raise ZoneError(p, msg("input.layer_missing", layer=key))
        return p
    for suffix in LAYER_SUFFIXES:
        p = root / f"{key}{suffix}"
        if p.exists():
            return p
    return None


def _build(
    root: Path, default_name: str, config: dict[str, Any], tiles: list[TileEntry], layers: Path
) -> Region:
    name = str(config.get("name") or default_name)
    code = str(config.get("code") or region_code(name)).upper()
    if not _CODE_RE.match(code):
        raise ConfigError(root, msg("input.bad_code", code=repr(code)))
    zones = _find_layer(layers, config, "zones")
    if zones is None:
        raise ZoneError(layers, msg("input.no_zones_layer"))
    approvals = _find_layer(layers, config, "approvals")
    patrol_zones = _find_layer(layers, config, "patrol_zones")
    ordered = _check_dates(sorted(tiles, key=_order), root)
    return Region(name, code, root, tuple(ordered), zones, approvals, config, patrol_zones)


def _check_dates(tiles: list[TileEntry], root: Path) -> list[TileEntry]:
    check_tiles(tiles, root)
    return tiles


# --- dates from file names and tags (no pipeline.io.tiles needed) ---------------------------

# --- STAC ItemCollection regions ------------------------------------------------------------

_BAND_KEY_RE = re.compile(r"^(B\d{1,2}A?|blue|green|red|nir\d*|swir\d*|coastal|rededge\d*)$", re.I)


def _load_stac(path: Path) -> Region:
    """Region from a STAC ItemCollection JSON (settings from ``region.yaml`` beside it).

    Each Item is a tile dated by its ``datetime`` (else ``start_datetime``); its raster is the
    per-band assets when it has several (``B02``, ``red``, ...: ``band_paths``, ``path`` = their
    common folder), else the asset with role ``data``, else the first GeoTIFF asset. Zones and
    approvals come from the collection's top-level ``assets`` (key or role ``zones`` /
    ``approvals``) or ``links`` (``rel``), else ``zones.*``/``approvals.*`` beside the JSON.
    Hrefs are resolved against the JSON's folder; remote hrefs (http, s3) are refused for now
    (runs hash every input byte).
    """
    import pystac

    try:
        collection = pystac.ItemCollection.from_file(str(path))
    except Exception as exc:  # pystac raises JSON, KeyError, STACTypeError... on bad files
        problem = f"not a STAC ItemCollection ({exc.__class__.__name__}: {exc})"
        raise ConfigError(path, problem) from exc
    config = _read_config(path.parent / "region.yaml")
    sensor = config.get("sensor")
    pattern = tile_pattern(config, path.parent / "region.yaml")
    tiles = [_stac_tile(item, path, sensor, pattern) for item in collection.items]
    if not tiles:
        raise TileError(path, "the ItemCollection holds no items")
    layers = _stac_layers(collection.extra_fields, path)
    return _build(path, path.stem, {**layers, **config}, tiles, path.parent)


def _href(href: str, source: Path) -> Path:
    if re.match(r"^[a-z][a-z0-9+.-]+://", href, re.I) and not href.startswith("file://"):
        raise ConfigError(source, f"remote asset {href} is not supported; download it first")
    p = Path(href.removeprefix("file://"))
    return p if p.is_absolute() else (source.parent / p).resolve()


def _stac_tile(item: Any, source: Path, sensor: str | None, pattern: str | None) -> TileEntry:
    when = item.datetime or item.common_metadata.start_datetime
    if when is None:
        raise TileError(source, f"item {item.id} has no datetime or start_datetime")
    assets = item.assets
    data = [a for a in assets.values() if "data" in (a.roles or [])]
    tiffs = [a for a in assets.values()
             if "tiff" in (a.media_type or "") or a.href.lower().endswith((".tif", ".tiff"))]
    bands = {k: a for k, a in assets.items() if _BAND_KEY_RE.match(k)}
    item_sensor = sensor or item.properties.get("landpatrol:sensor")
    if len(bands) > 1:
        paths = {k: _href(a.href, source) for k, a in bands.items()}
        parents = {p.parent for p in paths.values()}
        folder = parents.pop() if len(parents) == 1 else source.parent
        return TileEntry(folder, to_china(when).date(), item_sensor, paths, item.id,
                         stac_tile(item.properties, item.id, pattern))
    if data or tiffs:
        href = _href((data or tiffs)[0].href, source)
        return TileEntry(href, to_china(when).date(), item_sensor, None, item.id,
                         stac_tile(item.properties, item.id, pattern) or name_tile(href.name, pattern))
    raise TileError(source, f"item {item.id} has no data, GeoTIFF or band asset")


def _stac_layers(extra: Mapping[str, Any], source: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in ("zones", "approvals", "patrol_zones"):
        for k, asset in (extra.get("assets") or {}).items():
            if k == key or key in (asset.get("roles") or []):
                found.setdefault(key, str(_href(asset["href"], source)))
        for link in extra.get("links") or []:
            if link.get("rel") == key:
                found.setdefault(key, str(_href(link["href"], source)))
    return found
