"""Geometry on the way into the ledger: reprojection, bounding boxes, 'is this the same place?'.

Leads arrive in the run's projected CRS (metres) and are stored in EPSG:4326. Two geometries
are the same place when their interiors overlap by more than :data:`MIN_OVERLAP_SHARE` of the
smaller one: patches that merely share an edge (adjacent pixels vectorised apart) are not.

Candidates (open leads that could be the same place) come from the database: on PostgreSQL
with PostGIS (revision 0009) from the GiST index of ``leads.geom`` (``&&`` plus
``ST_Intersects``), on SQLite from the R*Tree ``leads_rtree`` (revision 0011) checked against
the exact bounds, elsewhere from the four indexed bounding-box columns. The exact test
(:func:`same_place`) runs in shapely on the few candidates either way, so both backends match
a patch to the same lead.
"""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, column, func, select, table, text

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


_SPATIAL: dict[str, bool] = {}
_INDEXED: dict[str, bool] = {}


def _has(conn: Connection, dialect: str, cache: dict[str, bool], probe: str) -> bool:
    """Whether ``probe`` finds a row on a ``dialect`` ledger, asked once per URL."""
    if conn.dialect.name != dialect:
        return False
    key = conn.engine.url.render_as_string(hide_password=False)
    if key not in cache:
        cache[key] = conn.execute(text(probe)).first() is not None
    return cache[key]


def has_postgis(conn: Connection) -> bool:
    """Whether this ledger's ``leads`` has the PostGIS ``geom`` column (checked once per URL)."""
    return _has(conn, "postgresql", _SPATIAL,
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'leads' AND column_name = 'geom'")


def has_rtree(conn: Connection) -> bool:
    """Whether this SQLite ledger has the ``leads_rtree`` index of revision 0011 (checked once per URL)."""
    return _has(conn, "sqlite", _INDEXED,
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leads_rtree'")


_LEAD_GEOM = table("leads", column("id"), column("code"), column("geom_wkb"), column("region"),
                   column("status"), column("geom"))
# CROSS JOIN: SQLite then reads the R*Tree first (an inner join let its planner walk the
# region's bounding-box index instead); the index's boxes are float32 rounded outwards, a
# superset, so the exact bounds decide
_RTREE_CANDIDATES = text(
    "SELECT l.id, l.code, l.geom_wkb FROM leads_rtree AS r CROSS JOIN leads AS l ON l.id = r.id "
    "WHERE r.minx <= :maxx AND r.maxx >= :minx AND r.miny <= :maxy AND r.maxy >= :miny "
    "AND l.region = :region AND l.status != :closed "
    "AND l.minx <= :maxx AND l.maxx >= :minx AND l.miny <= :maxy AND l.maxy >= :miny ORDER BY l.id")


def open_lead_candidates(conn: Connection, region: str, geom: BaseGeometry) -> list[dict[str, Any]]:
    """Open leads of ``region`` that could touch ``geom``: a spatial-index query on PostGIS,
    an R*Tree query on SQLite, a bounding-box range query elsewhere; in id order."""
    if has_postgis(conn):
        probe = func.ST_GeomFromWKB(shapely.to_wkb(geom), 4326)
        t = _LEAD_GEOM.c
        spatial = select(t.id, t.code, t.geom_wkb).where(
            t.region == region, t.status != CLOSED, t.geom.op("&&")(probe),
            func.ST_Intersects(t.geom, probe),
        ).order_by(t.id)
        return [dict(r) for r in conn.execute(spatial).mappings()]
    minx, miny, maxx, maxy = geom.bounds
    if has_rtree(conn):
        bounds = {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
        return [dict(row) for row in conn.execute(_RTREE_CANDIDATES, dict(
            bounds, region=region, closed=CLOSED)).mappings()]
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
