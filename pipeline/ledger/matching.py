"""Geometry on the way into the ledger: reprojection, bounding boxes, 'is this the same place?'.

Leads arrive in the run's projected CRS (metres) and are stored in EPSG:4326. Two geometries
are the same place when their interiors overlap by more than :data:`MIN_OVERLAP_SHARE` of the
smaller one: patches that merely share an edge (adjacent pixels vectorised apart) are not.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, select

from pipeline.ledger.schema import Lead

STORAGE_CRS = "EPSG:4326"
MIN_OVERLAP_SHARE = 0.01
CLOSED = "closed"


def to_storage(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The frame's geometries, made valid, in EPSG:4326 (index kept)."""
    geoms = frame.geometry
    geoms = geoms.set_crs(frame.crs, allow_override=True) if geoms.crs is None else geoms
    fixed = gpd.GeoSeries(shapely.make_valid(geoms.values), index=frame.index, crs=geoms.crs)
    return fixed.to_crs(STORAGE_CRS)


def bbox(geom: BaseGeometry) -> dict[str, float]:
    minx, miny, maxx, maxy = geom.bounds
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


def same_place(a: BaseGeometry, b: BaseGeometry) -> float:
    """Overlap area (in the geometries' units) when ``a`` and ``b`` are the same place, else 0."""
    if not a.intersects(b):
        return 0.0
    inter = a.intersection(b).area
    smaller = min(a.area, b.area)
    if smaller <= 0:
        return 0.0
    return inter if inter / smaller > MIN_OVERLAP_SHARE else 0.0


def open_lead_candidates(conn: Connection, region: str, geom: BaseGeometry) -> list[dict[str, Any]]:
    """Open leads of ``region`` whose bounding box meets ``geom``'s (SQL range query)."""
    minx, miny, maxx, maxy = geom.bounds
    stmt = select(Lead.id, Lead.code, Lead.geom_wkb).where(
        Lead.region == region, Lead.status != CLOSED,
        Lead.minx <= maxx, Lead.maxx >= minx, Lead.miny <= maxy, Lead.maxy >= miny,
    ).order_by(Lead.id)
    return [dict(r) for r in conn.execute(stmt).mappings()]


def best_open_lead(conn: Connection, region: str, geom: BaseGeometry) -> int | None:
    """Id of the open lead of ``region`` that overlaps ``geom`` most, ``None`` if none does."""
    best, best_overlap = None, 0.0
    for cand in open_lead_candidates(conn, region, geom):
        overlap = same_place(geom, shapely.from_wkb(cand["geom_wkb"]))
        if overlap > best_overlap:
            best, best_overlap = cand["id"], overlap
    return best
