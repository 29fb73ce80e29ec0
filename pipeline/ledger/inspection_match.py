"""Which lead an issued patch belongs to: the one place patches are matched to leads.

A patch belongs to the lead (open or closed, of the batch's region) its outline overlaps most,
when the overlap is more than :data:`~pipeline.ledger.matching.MIN_OVERLAP_SHARE` of the
smaller of the two (the rule runs use for "the same place"). Candidates come from a SQL range
query on the leads' bounding boxes; the pairs are found with a geopandas spatial join and the
overlaps measured in metres in the patches' UTM zone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, select

from pipeline.ledger.matching import MIN_OVERLAP_SHARE, STORAGE_CRS
from pipeline.ledger.schema import Lead


@dataclass(frozen=True)
class Match:
    """The lead a patch joins (``None``: none) and every other lead it overlaps."""

    lead_id: int | None
    lead_code: str | None
    share: float | None
    others: list[str] = field(default_factory=list)


def candidate_leads(conn: Connection, bounds: tuple[float, float, float, float],
                    region: str | None) -> gpd.GeoDataFrame:
    """Leads (any status) whose bounding box meets ``bounds`` (lon/lat), EPSG:4326."""
    minx, miny, maxx, maxy = bounds
    stmt = select(Lead.id, Lead.code, Lead.region, Lead.geom_wkb).where(
        Lead.minx <= maxx, Lead.maxx >= minx, Lead.miny <= maxy, Lead.maxy >= miny).order_by(Lead.id)
    if region is not None:
        stmt = stmt.where(Lead.region == region)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    geoms = shapely.from_wkb([r.pop("geom_wkb") for r in rows]) if rows else []
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=["id", "code", "region"]),
                            geometry=gpd.GeoSeries(list(geoms), crs=STORAGE_CRS), crs=STORAGE_CRS)


def match_patches(conn: Connection, patches: gpd.GeoDataFrame, region: str | None) -> dict[str, Match]:
    """``patch_no`` -> :class:`Match` for every patch of ``patches`` (EPSG:4326)."""
    out = {str(no): Match(None, None, None) for no in patches["patch_no"]}
    if len(patches) == 0:
        return out
    leads = candidate_leads(conn, tuple(patches.total_bounds), region)
    if len(leads) == 0:
        return out
    left = patches[["patch_no", "geometry"]].reset_index(drop=True)
    pairs = gpd.sjoin(left, leads, how="inner", predicate="intersects")
    if len(pairs) == 0:
        return out
    utm = left.estimate_utm_crs()
    a = left.geometry.to_crs(utm).values[pairs.index.to_numpy()]
    b = leads.geometry.to_crs(utm).values[pairs["index_right"].to_numpy()]
    inter = shapely.area(shapely.intersection(a, b))
    smaller = np.minimum(shapely.area(a), shapely.area(b))
    share = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    pairs = pairs.assign(overlap=inter, share=share)
    pairs = pairs[pairs["share"] > MIN_OVERLAP_SHARE]
    for no, group in pairs.groupby("patch_no", sort=False):
        group = group.sort_values(["overlap", "id"], ascending=[False, True])
        best = group.iloc[0]
        out[str(no)] = Match(int(best["id"]), str(best["code"]), float(best["share"]),
                             [str(c) for c in group["code"].iloc[1:]])
    return out
