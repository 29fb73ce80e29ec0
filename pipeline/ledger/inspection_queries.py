"""Read side of the satellite inspection: the patches of a batch with their leads, and the
reconciliation "did landpatrol have it first, and how many days ahead?".

A patch counts as *found by landpatrol* when its lead was seen by something other than the
inspection itself (imagery, drone, patrol, a report) before the batch's issue date; ``found_on``
is the earliest such sighting (the lead's ``first_seen`` unless the lead was opened by a batch)
and ``days_ahead`` is the issue date minus that day.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, func, select

from pipeline.ledger.matching import STORAGE_CRS
from pipeline.ledger.schema import Lead, LeadObservation
from pipeline.ledger.schema_inspection import InspectionBatch, InspectionPatch
from pipeline.ledger.sources import INSPECTION_SOURCE

#: columns of :func:`batch_patches` (geometry, the patch's outline, last)
PATCH_FRAME_COLUMNS = [
    "batch", "issued_on", "patch_no", "admin_code", "area_mu", "measured_area_m2", "before_date",
    "after_date", "label", "note", "lead_code", "joined", "overlap_share", "other_leads",
    "lead_source", "status", "outcome", "found_on", "found_by_landpatrol", "days_ahead",
    "first_seen", "verified_on", "closed_on", "notice_no", "case_no", "patrol_zone_id",
    "centroid_lon", "centroid_lat", "judgment", "violation_type", "land_use", "illegal_mu",
    "farmland_mu", "basic_farmland_mu", "rectification", "rectified_mu", "rectified_on",
    "evidence", "parts",
]


def get_batch(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(InspectionBatch).where(InspectionBatch.name == name)).mappings().first()
    return None if row is None else dict(row)


def list_batches(conn: Connection) -> list[dict[str, Any]]:
    counts: dict[int, int] = {int(b): int(n) for b, n in conn.execute(select(
        InspectionPatch.batch_id, func.count()).group_by(InspectionPatch.batch_id))}
    rows = conn.execute(select(InspectionBatch).order_by(InspectionBatch.issued_on, InspectionBatch.name))
    return [dict(r) | {"patches": int(counts.get(r["id"], 0))} for r in rows.mappings()]


def lead_patches(conn: Connection, code: str) -> list[dict[str, Any]]:
    """The issued patches of lead ``code`` with their 举证 and batch name."""
    stmt = (select(InspectionPatch.patch_no, InspectionPatch.evidence, InspectionBatch.name.label("batch"))
            .join(Lead, Lead.id == InspectionPatch.lead_id)
            .join(InspectionBatch, InspectionBatch.id == InspectionPatch.batch_id)
            .where(Lead.code == code).order_by(InspectionPatch.id))
    return [dict(r) for r in conn.execute(stmt).mappings()]


def found_dates(conn: Connection, lead_ids: list[int]) -> dict[int, date]:
    """Earliest sighting of each lead by anything but the inspection."""
    if not lead_ids:
        return {}
    rows = conn.execute(select(LeadObservation.lead_id, func.min(LeadObservation.observed_on)).where(
        LeadObservation.lead_id.in_(lead_ids), LeadObservation.source != INSPECTION_SOURCE)
        .group_by(LeadObservation.lead_id))
    return {int(lid): day for lid, day in rows}


def batch_patches(conn: Connection, name: str) -> gpd.GeoDataFrame:
    """The patches of batch ``name`` with their lead's lifecycle and 举证 (see the columns)."""
    from pipeline.ledger.inspection_parts import parts_of

    batch = get_batch(conn, name)
    if batch is None:
        return gpd.GeoDataFrame(pd.DataFrame(columns=PATCH_FRAME_COLUMNS), geometry=[], crs=STORAGE_CRS)
    stmt = (select(InspectionPatch, Lead.code.label("lead_code"), Lead.source.label("lead_source"),
                   Lead.status, Lead.outcome, Lead.first_seen, Lead.verified_on, Lead.closed_on,
                   Lead.notice_no, Lead.case_no, Lead.patrol_zone_id)
            .join(Lead, Lead.id == InspectionPatch.lead_id)
            .where(InspectionPatch.batch_id == batch["id"]).order_by(InspectionPatch.patch_no))
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    found = found_dates(conn, [r["lead_id"] for r in rows])
    parts = parts_of(conn, [r["id"] for r in rows])
    out, geoms = [], []
    for r in rows:
        ev = dict(r["evidence"] or {})
        seen = found.get(r["lead_id"])
        ahead = seen is not None and seen < batch["issued_on"]
        out.append({
            **{k: r.get(k) for k in PATCH_FRAME_COLUMNS if k in r},
            "batch": name, "issued_on": batch["issued_on"], "found_on": seen,
            "found_by_landpatrol": bool(ahead),
            "days_ahead": (batch["issued_on"] - seen).days if ahead and seen else None,
            **{k: ev.get(k) for k in ("judgment", "violation_type", "land_use", "illegal_mu",
                                      "farmland_mu", "basic_farmland_mu", "rectification",
                                      "rectified_mu", "rectified_on")},
            "evidence": ev, "parts": parts.get(r["id"], []),
        })
        geoms.append(shapely.from_wkb(r["geom_wkb"]))
    frame = pd.DataFrame(out, columns=PATCH_FRAME_COLUMNS)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS), crs=STORAGE_CRS)


def leads_not_issued(conn: Connection, batch: dict[str, Any], patches: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Leads found by landpatrol inside the batch's footprint (the convex hull of its patches)
    and period (earliest before date .. latest after date, else up to the issue date) that no
    patch of the batch joined; leads verified as false positives are no change and not listed."""
    if len(patches) == 0:
        return []
    hull = shapely.convex_hull(shapely.union_all(patches.geometry.values))
    start = min((d for d in patches["before_date"] if d is not None), default=None)
    end = max((d for d in patches["after_date"] if d is not None), default=batch["issued_on"])
    minx, miny, maxx, maxy = hull.bounds
    stmt = select(Lead.id, Lead.code, Lead.status, Lead.outcome, Lead.source, Lead.first_seen,
                  Lead.area_mu, Lead.geom_wkb).where(
        Lead.region == batch["region"], Lead.source != INSPECTION_SOURCE, Lead.first_seen <= end,
        Lead.minx <= maxx, Lead.maxx >= minx, Lead.miny <= maxy, Lead.maxy >= miny).order_by(Lead.code)
    if start is not None:
        stmt = stmt.where(Lead.first_seen >= start)
    issued = set(patches["lead_code"])
    out = []
    for r in conn.execute(stmt).mappings():
        if r["code"] in issued or r["outcome"] == "false_positive" or not hull.intersects(shapely.from_wkb(r["geom_wkb"])):
            continue
        out.append({k: r[k] for k in ("code", "status", "outcome", "source", "first_seen", "area_mu")})
    return out


def reconcile(conn: Connection, name: str) -> dict[str, Any] | None:
    """The reconciliation document of batch ``name`` (``None`` if there is no such batch)."""
    batch = get_batch(conn, name)
    if batch is None:
        return None
    frame = batch_patches(conn, name)
    patches = [{
        "patch_no": r["patch_no"], "lead_code": r["lead_code"],
        "found_by_landpatrol": bool(r["found_by_landpatrol"]), "found_on": r["found_on"],
        "days_ahead": None if pd.isna(r["days_ahead"]) else int(r["days_ahead"]),
        "status": r["status"], "outcome": r["outcome"], "joined": bool(r["joined"]),
    } for r in frame.to_dict("records")]
    found = sum(p["found_by_landpatrol"] for p in patches)
    closed = sum(p["status"] == "closed" for p in patches)
    not_issued = leads_not_issued(conn, batch, frame)
    totals = {"patches": len(patches), "found_before": found, "missed": len(patches) - found,
              "closed": closed, "open": len(patches) - closed, "leads_not_issued": len(not_issued)}
    return {"batch": name, "issued_on": batch["issued_on"], "region": batch["region"],
            "totals": totals, "patches": patches, "leads_not_issued": not_issued}
