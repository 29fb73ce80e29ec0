"""Which footprint a tile covers, and the checks a region of several footprints must pass.

A region may span several tiles of one date (Sentinel-2 MGRS tiles ``50RPV``, ``50RQV``...,
possibly in two UTM zones). Each tile is paired with the earlier tile of the *same footprint*;
the pairs of one date window are analysed apart and joined before the ledger commit
(:mod:`pipeline.tilejoin`). A tile's footprint id comes, first found:

1. from ``tile_pattern`` in ``region.yaml``: a regular expression whose first group, searched
   in the file (or STAC Item) name, is the id (for Gaofen, drone or other naming schemes);
2. from a STAC Item's properties: ``landpatrol:tile``, ``s2:mgrs_tile``, the MGRS extension's
   ``mgrs:utm_zone`` + ``mgrs:latitude_band`` + ``mgrs:grid_square``, or ``grid:code``
   (``MGRS-50RPV``);
3. from a Sentinel-2 name: ``..._T50RPV_...`` (``T`` then the MGRS tile).

A region whose tiles have no id, or one id, is one footprint (as before): two tiles of a date
are refused. With two or more ids, every tile needs one, no footprint may appear twice on a
date, and every footprint has a tile on every date of the region, so that the windows of all
footprints are the same and their patches can be joined.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from pipeline.errors import ConfigError
from pipeline.i18n import msg

_MGRS_NAME_RE = re.compile(r"(?:^|[_.\-])T(\d{2}[C-HJ-NP-X][A-HJ-NP-Z]{2})(?=$|[_.\-])")
_MGRS_RE = re.compile(r"^(?:MGRS-)?(\d{1,2}[C-HJ-NP-X][A-HJ-NP-Z]{2})$", re.I)


class Dated(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def acquired(self) -> Any: ...
    @property
    def tile(self) -> str: ...


def name_tile(name: str, pattern: str | None = None) -> str:
    """The footprint id in a file or Item name (``""`` when it holds none)."""
    if pattern:
        hit = re.search(pattern, name)
        return (hit.group(1) if hit and hit.groups() else (hit.group(0) if hit else "")).upper()
    hit = _MGRS_NAME_RE.search(name)
    return hit.group(1).upper() if hit else ""


def stac_tile(properties: Mapping[str, Any], name: str, pattern: str | None = None) -> str:
    """The footprint id of a STAC Item (its properties, else its id or file name)."""
    if pattern:
        return name_tile(name, pattern)
    own = properties.get("landpatrol:tile")
    if own:
        return str(own).strip().upper()
    for value in (properties.get("s2:mgrs_tile"), properties.get("grid:code")):
        hit = _MGRS_RE.match(str(value or "").strip())
        if hit:
            return hit.group(1).upper().zfill(5)
    zone, band, square = (properties.get(k) for k in ("mgrs:utm_zone", "mgrs:latitude_band",
                                                       "mgrs:grid_square"))
    if zone and band and square:
        return f"{int(zone):02d}{band}{square}".upper()
    return name_tile(name)


def tile_pattern(config: Mapping[str, Any], source: Path) -> str | None:
    """``tile_pattern`` of ``region.yaml``, checked to be a regular expression."""
    value = config.get("tile_pattern")
    if value in (None, ""):
        return None
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ConfigError(source, f"tile_pattern {value!r} is not a regular expression ({exc})") from None
    return str(value)


def check_tiles(tiles: Sequence[Dated], root: Path) -> None:
    """Refuse a region its windows cannot be formed from (module docstring), naming the file."""
    seen: dict[Path, Dated] = {}
    for t in tiles:
        first = seen.setdefault(Path(t.path).resolve(), t)
        if first is not t:
            raise ConfigError(t.path, msg("input.tile_twice", day=t.acquired))
    ids = {t.tile for t in tiles}
    by_date: dict[Any, list[Dated]] = defaultdict(list)
    for t in tiles:
        by_date[t.acquired].append(t)
    if len(ids - {""}) < 2:
        for day, same in sorted(by_date.items()):
            if len(same) > 1:
                raise ConfigError(root, msg("input.same_date", day=day, a=same[0].path, b=same[1].path))
        return
    for t in tiles:
        if not t.tile:
            raise ConfigError(t.path, msg("input.no_tile_id"))
    for day, same in sorted(by_date.items()):
        here: dict[str, Dated] = {}
        for t in same:
            if t.tile in here:
                raise ConfigError(t.path, msg("input.footprint_twice", tile=t.tile, day=day,
                                              other=here[t.tile].path))
            here[t.tile] = t
    for day, same in sorted(by_date.items()):
        missing = sorted(ids - {t.tile for t in same})
        if missing:
            raise ConfigError(same[0].path, msg("input.unpaired_date", day=day, tile=same[0].tile,
                                                missing=", ".join(missing)))
