"""Parts of split patches (图斑拆分): each part with its own area and judgment."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from pipeline.ledger.schema_inspection import InspectionPatchPart


def parts_of(conn: Connection, patch_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """``patch id`` -> its parts in order (``part_no``, ``area_mu``, ``judgment``, evidence)."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not patch_ids:
        return out
    rows = conn.execute(select(InspectionPatchPart).where(InspectionPatchPart.patch_id.in_(patch_ids))
                        .order_by(InspectionPatchPart.patch_id, InspectionPatchPart.part_no)).mappings()
    for r in rows:
        out.setdefault(int(r["patch_id"]), []).append(
            {"part_no": r["part_no"], "area_mu": r["area_mu"], "judgment": r["judgment"],
             **dict(r["evidence"] or {})})
    return out
