"""Read-side queries: leads as a GeoDataFrame, one lead in detail."""
from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, select

from pipeline.ledger.matching import STORAGE_CRS
from pipeline.ledger.schema import Lead, LeadObservation, Run
from pipeline.ledger.schema_work import Attachment, Case, PatrolZone, Report, StopNotice, Verification

#: Columns of :meth:`Ledger.leads_frame`, in order (geometry last).
LEAD_FRAME_COLUMNS = [
    "code", "region", "status", "source", "change_class", "area_m2", "area_mu",
    "first_seen", "last_seen", "seen_count", "score_mean", "score_max", "centroid_lon",
    "centroid_lat", "zone_level", "zones", "approvals", "approved_share", "unapproved_area_m2",
    "priority", "priority_score", "first_run_id", "last_run_id", "assignee", "outcome",
    "personnel", "stop_measure", "notice_no", "case_no", "verified_on", "report_due",
    "reported_on", "closed_on", "sources", "patch_nos",
]


def leads_frame(conn: Connection, region: str | None = None, status: str | None = None,
                zone: str | None = None, extra: list[str] | None = None) -> gpd.GeoDataFrame:
    cols = list(LEAD_FRAME_COLUMNS) + [c for c in (extra or []) if c not in LEAD_FRAME_COLUMNS]
    stmt = select(*[getattr(Lead, c) for c in cols], Lead.geom_wkb).order_by(Lead.code)
    if region is not None:
        stmt = stmt.where(Lead.region == region)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    if zone is not None:
        stmt = stmt.where(Lead.patrol_zone_id == select(PatrolZone.id).where(PatrolZone.code == zone)
                          .scalar_subquery())
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    geoms = shapely.from_wkb([r.pop("geom_wkb") for r in rows]) if rows else []
    df = pd.DataFrame(rows, columns=cols)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(list(geoms), crs=STORAGE_CRS), crs=STORAGE_CRS)


def lead_detail(conn: Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(select(Lead).where(Lead.code == code)).mappings().first()
    if row is None:
        return None
    lead = dict(row)
    lead["geometry"] = shapely.from_wkb(lead.pop("geom_wkb"))
    obs = conn.execute(
        select(LeadObservation).where(LeadObservation.lead_id == lead["id"])
        .order_by(LeadObservation.observed_on, LeadObservation.id)).mappings()
    lead["observations"] = [
        {k: v for k, v in dict(o).items() if k != "geom_wkb"} for o in obs
    ]
    for key, table in (("verifications", Verification), ("stop_notices", StopNotice),
                       ("reports", Report), ("cases", Case), ("attachments", Attachment)):
        rows = conn.execute(select(table).where(table.lead_id == lead["id"]).order_by(table.id))
        lead[key] = [dict(r) for r in rows.mappings()]
    lead["legality"] = legality(conn, lead)
    if lead.get("patrol_zone_id") is not None:
        lead["patrol_zone"] = conn.execute(select(PatrolZone.code).where(
            PatrolZone.id == lead["patrol_zone_id"])).scalar()
    return lead


#: run parameter names that carry the minimum mapping unit (m2), first found wins
MMU_KEYS = ("min_area_m2", "mmu_m2", "min_mapping_unit_m2")


def legality(conn: Connection, lead: dict[str, Any]) -> dict[str, Any]:
    """The legality pre-check of a lead: which approvals cover what share of it, and whether
    the part no approval covers is still larger than the minimum mapping unit of its run."""
    area = float(lead.get("area_m2") or 0.0)
    unapproved = lead.get("unapproved_area_m2")
    unapproved = area * (1.0 - float(lead.get("approved_share") or 0.0)) if unapproved is None else float(unapproved)
    mmu = None
    run_id = lead.get("last_run_id") or lead.get("first_run_id")
    if run_id is not None:
        params = conn.execute(select(Run.parameters).where(Run.id == run_id)).scalar() or {}
        mmu = next((float(params[k]) for k in MMU_KEYS if params.get(k) is not None), None)
    approvals = [
        {k: a.get(k) for k in ("approval_no", "approved_use", "approved_on", "area_m2", "share",
                               "after_change")}
        for a in (lead.get("approvals") or []) if isinstance(a, dict)
    ]
    exceeds = None if mmu is None else unapproved > mmu
    if not approvals:
        text = "no approval covers this lead"
    else:
        parts = [f"{a['approval_no']} ({a.get('approved_use') or 'use unknown'}, {a.get('approved_on') or 'date unknown'})"
                 + (" approved after the change (先建后批), legalises nothing" if a.get("after_change")
                    else f" covers {100 * float(a.get('share') or 0):.0f}%") for a in approvals]
        text = "; ".join(parts)
    if exceeds is not None:
        text += (f"; the remaining {unapproved:.0f} m2 {'exceeds' if exceeds else 'is within'} the "
                 f"minimum mapping unit of {mmu:.0f} m2")
    return {"approvals": approvals, "approved_share": lead.get("approved_share"),
            "unapproved_area_m2": unapproved, "min_area_m2": mmu, "remainder_exceeds_mmu": exceeds,
            "explanation": text}
