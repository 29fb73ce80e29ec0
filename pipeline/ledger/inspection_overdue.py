"""Deadlines of an inspection batch: the on-site check, the 举证 and the rectification, each
due on a day set with the batch; lateness counted in working days of the Chinese calendar."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from pipeline.ledger.calendar import WorkCalendar
from pipeline.ledger.inspection_queries import batch_patches, get_batch
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_work import Attachment
from pipeline.review.checklist import missing

NOT_CHECKED = ("new", "dispatched")
RECTIFIED = ("rectified", "closed")


def _attachments(conn: Connection, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
    rows = conn.execute(select(Lead.code, Attachment.kind, Attachment.taken_at, Attachment.lon,
                               Attachment.lat, Attachment.bearing)
                        .join(Attachment, Attachment.lead_id == Lead.id).where(Lead.code.in_(codes)))
    for r in rows.mappings():
        out[r["code"]].append(dict(r))
    return out


def batch_overdue(conn: Connection, name: str, today: date, calendar: WorkCalendar) -> list[dict[str, Any]]:
    """Patches of batch ``name`` past one of its due dates, most late first (one row a deadline)."""
    batch = get_batch(conn, name)
    if batch is None:
        return []
    frame = batch_patches(conn, name)
    files = _attachments(conn, list(frame["lead_code"]))
    out = []
    for r in frame.to_dict("records"):
        late: list[tuple[str, date]] = []
        due = batch["check_due"]
        if due is not None and due < today and r["status"] in NOT_CHECKED:
            late.append(("check", due))
        due = batch["evidence_due"]
        if due is not None and due < today and missing(r["evidence"] or {}, r["status"], r,
                                                        files[r["lead_code"]]):
            late.append(("evidence", due))
        due = batch["rectify_due"]
        illegal = r["outcome"] == "illegal" or (r["evidence"] or {}).get("judgment") == "违法"
        if due is not None and due < today and illegal and r["status"] not in RECTIFIED:
            late.append(("rectification", due))
        for what, day in late:
            out.append({"patch_no": r["patch_no"], "lead_code": r["lead_code"], "status": r["status"],
                        "deadline": what, "due": day, "patrol_zone_id": r["patrol_zone_id"],
                        "working_days_late": calendar.working_days_between(day, today)})
    return sorted(out, key=lambda d: (-d["working_days_late"], d["patch_no"], d["deadline"]))
