"""Leads out of the ledger: GeoJSON (EPSG:4326, RFC 7946), GeoPackage, CSV, XLSX.

List and dict columns (zones, approvals) are written as JSON text, dates as ISO 8601 text, so
every format carries the same values. CSV (UTF-8 with BOM) and XLSX have headers in the
reader's language (:mod:`pipeline.io.tables`); the GeoPackage carries QGIS layer styles for
priority and status (:mod:`pipeline.io.gpkgstyle`); the GeoJSON's ``name`` is the file's stem. The file is written next to its destination under a
temporary name and moved into place, so a failed export leaves no half-written file; an existing
file is only replaced with ``overwrite=True``.
"""
from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pipeline.errors import OutputError
from pipeline.i18n import msg
from pipeline.io.gpkgstyle import add_layer_styles
from pipeline.io.tables import write_csv, write_xlsx

FORMATS = ("geojson", "gpkg", "csv", "xlsx")
_SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv", "xlsx": ".xlsx"}
LAYER = "leads"


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def flatten(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:4326 with nested and date values as text (other columns untouched)."""
    out = frame.copy()
    if out.crs is None:
        out = out.set_crs("EPSG:4326")
    elif not out.crs.equals("EPSG:4326"):
        out = out.to_crs("EPSG:4326")
    geom = out.geometry.name
    for col in out.columns:
        if col == geom:
            continue
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            out[col] = s.map(_cell).astype(object)
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.map(lambda v: None if pd.isna(v) else v.isoformat()).astype(object)
    return out


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise OutputError(path, msg("output.exists"))
    if path.is_dir():
        raise OutputError(path, msg("output.is_dir"))
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(path, msg("output.no_dir", parent=parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(path, msg("output.dir_not_writable", parent=parent))


def export_leads(frame: gpd.GeoDataFrame, path: str | os.PathLike[str], fmt: str | None = None,
                 overwrite: bool = False, lang: str | None = None, styles: bool = True) -> Path:
    """Write ``frame`` to ``path`` as ``fmt`` (``geojson``, ``gpkg``, ``csv`` or ``xlsx``;
    guessed from the suffix when ``None``); returns the path written.

    CSV carries the geometry as WKT in a ``geometry`` column plus ``lon``/``lat`` of a point
    inside each lead; CSV and XLSX headers are in ``lang`` (default: Chinese, or
    ``$LANDPATROL_LANG``). A GeoPackage of leads gets the priority and status styles unless
    ``styles`` is false. Raises :class:`OutputError` naming the file when it exists (and
    ``overwrite`` is false) or cannot be written.
    """
    path = Path(path)
    if fmt is None:
        fmt = next((f for f, s in _SUFFIX.items() if path.suffix.lower() == s), None)
        if fmt is None:
            raise OutputError(path, msg("output.no_format", formats=", ".join(FORMATS)))
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise OutputError(path, msg("output.unknown_format", fmt=fmt, formats=", ".join(FORMATS)))
    _check_target(path, overwrite)
    flat = flatten(frame)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{_SUFFIX[fmt]}")
    try:
        if fmt == "csv":
            write_csv(flat, tmp, lang)
        elif fmt == "xlsx":
            write_xlsx(flat, tmp, lang)
        elif fmt == "geojson":  # the layer name becomes the collection's "name": the file's stem
            flat.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer=path.stem,
                         layer_options={"RFC7946": "YES", "AUTODETECT_JSON_STRINGS": "NO"})
        else:
            flat.to_file(tmp, driver="GPKG", engine="pyogrio", layer=LAYER)
            if styles and "priority" in flat.columns:
                add_layer_styles(tmp, LAYER, lang)
        os.replace(tmp, path)
    except OutputError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise OutputError(path, msg("output.cannot_write", fmt=fmt, detail=" ".join(str(exc).split()))) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
