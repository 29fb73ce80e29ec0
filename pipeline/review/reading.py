"""Reading an issued patch list into standard columns, checked whole before anything is written.

Counties receive Shapefiles (often CGCS2000, EPSG:4490, GBK attributes declared in a .cpg),
GeoPackages, GeoJSON, or XLSX/CSV tables with coordinates. A Shapefile without a .cpg is read
as UTF-8 if it decodes, else as GBK (what national tools write). Table rows give a point
(``经度``/``纬度``) or a WKT outline; points become a 30 m footprint, as reports do.
Every problem raises :class:`~pipeline.errors.InputError` naming the file.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from pipeline.errors import InputError
from pipeline.ledger.codes import jsonable
from pipeline.review.columns import PATCH_COLUMNS, PatchColumnMap, resolve_columns
from pipeline.zones import ColumnMap

VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".zip")
TABLE_SUFFIXES = (".xlsx", ".csv")
POINT_RADIUS_M = 30.0
STORAGE_CRS = "EPSG:4326"


@dataclass(frozen=True)
class PatchList:
    """The patches of one file: standard columns + ``area_m2`` + ``attrs``, EPSG:4326."""

    path: Path
    frame: gpd.GeoDataFrame
    encoding: str | None


def _read_vector(path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    encoding = None
    kwargs: dict[str, Any] = {}
    if path.suffix.lower() == ".shp" and not any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        encoding = "utf-8"
    for attempt in (encoding, "gbk") if encoding else (None,):
        if attempt:
            kwargs["encoding"] = attempt
        try:
            return gpd.read_file(path, engine="pyogrio", **kwargs), attempt
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # noqa: BLE001 - pyogrio/GDAL raise several types for corrupt files
            raise InputError(path, f"cannot read the patch layer: {exc}") from None
    raise InputError(path, "attributes are neither UTF-8 nor GBK (add a .cpg naming the encoding)")


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".xlsx":
            return pd.read_excel(path, dtype=str)
        for enc in ("utf-8-sig", "gbk"):
            try:
                return pd.read_csv(path, dtype=str, encoding=enc)
            except UnicodeDecodeError:
                continue
    except Exception as exc:  # noqa: BLE001 - openpyxl / pandas parser errors
        raise InputError(path, f"cannot read the patch table: {exc}") from None
    raise InputError(path, "table is neither UTF-8 nor GBK text")


def _table_geometry(table: pd.DataFrame, cols: dict[str, str], path: Path) -> gpd.GeoSeries:
    if "wkt" in cols:
        try:
            geoms = [shapely.from_wkt(v) if isinstance(v, str) and v.strip() else None
                     for v in table[cols["wkt"]]]
        except shapely.errors.GEOSException as exc:
            raise InputError(path, f"bad WKT outline: {exc}") from None
        return gpd.GeoSeries(geoms, index=table.index, crs=STORAGE_CRS)
    if "lon" not in cols or "lat" not in cols:
        raise InputError(path, "a table needs 经度/纬度 (lon/lat) or a WKT column for each patch")
    lon = pd.to_numeric(table[cols["lon"]], errors="coerce")
    lat = pd.to_numeric(table[cols["lat"]], errors="coerce")
    bad = ~(lon.between(-180, 180) & lat.between(-90, 90))
    pts = gpd.GeoSeries(gpd.points_from_xy(lon.fillna(0), lat.fillna(0)), index=table.index,
                        crs=STORAGE_CRS)
    pts[bad] = None
    utm = pts[~bad].to_crs(pts[~bad].estimate_utm_crs()) if (~bad).any() else pts[~bad]
    pts[~bad] = utm.buffer(POINT_RADIUS_M).to_crs(STORAGE_CRS)
    return pts


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def parse_day(value: Any, path: Path, what: str) -> date | None:
    """``20020712``, ``2002-07-12``, ``2002/7/12``, ``2002年7月12日`` or a date -> date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    text = text.split(" ")[0].split("T")[0]
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    text = re.sub(r"[年月/.]", "-", text).rstrip("日")
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return date(y, m, d)
    except (ValueError, TypeError):
        raise InputError(path, f"{what} value {value!r} is not a date (YYYYMMDD)") from None


def _area(value: Any, path: Path, no: str) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        area = float(text)
    except ValueError:
        raise InputError(path, f"patch {no}: area {value!r} is not a number (mu)") from None
    if not math.isfinite(area) or area < 0:
        raise InputError(path, f"patch {no}: area {value!r} is not a non-negative number (mu)")
    return area


def read_patch_list(path: str | Path, columns: ColumnMap | None = None) -> PatchList:
    """Read and check an issued patch list; see the module docstring."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "patch list not found")
    if columns is not None and not isinstance(columns, PatchColumnMap):
        columns = PatchColumnMap(columns=dict(columns.columns))
    suffix = p.suffix.lower()
    encoding = None
    if suffix in TABLE_SUFFIXES:
        table = _read_table(p)
        cols = resolve_columns(table, str(p), columns)
        geoms = _table_geometry(table, cols, p)
    elif suffix in VECTOR_SUFFIXES:
        frame, encoding = _read_vector(p)
        if frame.crs is None:
            raise InputError(p, "the layer has no or an unknown CRS (a Shapefile needs its .prj)")
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        cols = resolve_columns(table, str(p), columns)
        geoms = frame.geometry
    else:
        raise InputError(p, f"unknown patch list format '{suffix}' (use .shp, .gpkg, .geojson, "
                         ".xlsx or .csv)")
    if len(table) == 0:
        raise InputError(p, "the patch list is empty")
    raw = [_text(v) for v in table[cols["patch_no"]]]
    if None in raw:
        raise InputError(p, f"{raw.count(None)} patch(es) have no monitoring number (监测编号)")
    numbers = [str(n) for n in raw]
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})
    if dupes:
        raise InputError(p, f"duplicate monitoring number(s) {', '.join(dupes[:5])}")
    empty = [n for n, g in zip(numbers, geoms) if g is None or g.is_empty]
    if empty:
        raise InputError(p, f"{len(empty)} patch(es) have no geometry: {', '.join(empty[:5])}")
    geoms = gpd.GeoSeries(shapely.make_valid(geoms.values), index=table.index, crs=geoms.crs)
    stored = geoms.to_crs(STORAGE_CRS)
    metres = stored.to_crs(stored.estimate_utm_crs()).area
    used = set(cols.values())
    rows = []
    for i, (_, rec) in enumerate(table.iterrows()):
        no = str(numbers[i])

        def get(std: str, r: Any = rec) -> Any:
            return r[cols[std]] if std in cols else None

        rows.append({
            "patch_no": no, "admin_code": _text(get("admin_code")),
            "area_mu": _area(get("area_mu"), p, no),
            "before_date": parse_day(get("before_date"), p, "before date (前时相)"),
            "after_date": parse_day(get("after_date"), p, "after date (后时相)"),
            "label": _text(get("label")), "note": _text(get("note")),
            "area_m2": float(metres.iloc[i]),
            "attrs": jsonable({str(k): v for k, v in rec.items() if k not in used and _text(v)}),
        })
    out = gpd.GeoDataFrame(rows, geometry=list(stored.values), crs=STORAGE_CRS)
    return PatchList(path=p, frame=out, encoding=encoding)


__all__ = ["PATCH_COLUMNS", "PatchList", "parse_day", "read_patch_list"]
