"""举证 through the lifecycle: the national fields of a lead's issued patches, checked against
the checklist of their judgment (:mod:`pipeline.review.checklist`) inside the step's write
transaction, so a refused step (or an incomplete 举证) writes nothing.

``ledger transition CODE --to verified --set judgment=违法 --set violation_type=未批先建 ...``
records the judgment with the verification (and derives its outcome); ``--to rectified`` takes
the rectification; closing a lead with issued patches needs their complete 举证.
:func:`record_evidence` amends the 举证 outside a step (a lead verified before the batch came).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipeline.ledger.events import append_event
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_inspection import InspectionPatch, InspectionPatchPart
from pipeline.ledger.schema_work import Attachment
from pipeline.review.checklist import (
    ALL_FIELDS,
    JUDGMENTS,
    RECTIFY_FIELDS,
    VERIFY_FIELDS,
    describe,
    missing,
    normalise,
)
from pipeline.timeutil import china_today

#: 举证 fields each step accepts on top of the lifecycle's own
STEP_EVIDENCE: dict[str, frozenset[str]] = {"verified": VERIFY_FIELDS, "rectified": RECTIFY_FIELDS}


class EvidenceRefused(ValueError):
    """The 举证 is refused; ``str(err)`` says why (the lifecycle turns it into a TransitionError)."""


@dataclass
class EvidencePlan:
    patches: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)  # id, no, evidence
    parts: list[dict[str, Any]] = field(default_factory=list)

    def shown(self) -> dict[str, Any]:
        return {no: ev for _, no, ev in self.patches}


def derive_outcome(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``outcome`` set from a ``judgment`` (refused when the two disagree)."""
    judgment = fields.get("judgment")
    if judgment is None or str(judgment).strip() not in JUDGMENTS:
        return fields
    outcome = JUDGMENTS[str(judgment).strip()]
    given = fields.get("outcome")
    if given not in (None, "") and str(given).strip() != outcome:
        raise EvidenceRefused(f"judgment {judgment} means outcome {outcome}, not {given}")
    return fields | {"outcome": outcome}


def plan_evidence(conn: Connection, lead: dict[str, Any], to: str | None, fields: dict[str, Any],
                  upd: dict[str, Any]) -> EvidencePlan | None:
    """Check the 举证 of a step (``to``; ``None`` for an amendment) on ``lead`` after ``upd``."""
    keys = set(fields) & (ALL_FIELDS - {"party"})
    rows = [dict(r) for r in conn.execute(select(InspectionPatch.id, InspectionPatch.patch_no,
                                                 InspectionPatch.evidence)
                                          .where(InspectionPatch.lead_id == lead["id"])
                                          .order_by(InspectionPatch.id)).mappings()]
    if not rows:
        if keys:
            raise EvidenceRefused("the lead has no issued inspection patch to take 举证 fields "
                                  f"({', '.join(sorted(keys))})")
        return None
    wanted = fields.get("patch")
    if wanted:
        rows = [r for r in rows if r["patch_no"] == str(wanted).strip()]
        if not rows:
            raise EvidenceRefused(f"patch {wanted} does not belong to this lead")
    new, problems = normalise(fields)
    if problems:
        raise EvidenceRefused("; ".join(problems))
    if to == "rectified" and "rectified_on" not in new:
        new["rectified_on"] = str(upd.get("status_changed_on") or china_today())
    after = lead | upd
    status = str(after["status"])
    attachments = [dict(a) for a in conn.execute(select(Attachment.kind, Attachment.taken_at,
                                                        Attachment.lon, Attachment.lat, Attachment.bearing)
                                                 .where(Attachment.lead_id == lead["id"])).mappings()]
    plan = EvidencePlan(parts=list(new.pop("parts", [])))
    if plan.parts and len(rows) != 1:
        raise EvidenceRefused("splitting needs one patch (--set patch=NO)")
    for row in rows:
        ev = dict(row["evidence"] or {}) | new
        if "party" in fields and fields.get("party"):
            ev["party"] = str(fields["party"]).strip()
        judgment = ev.get("judgment")
        if judgment is not None and after.get("outcome") and JUDGMENTS[judgment] != after["outcome"]:
            raise EvidenceRefused(f"patch {row['patch_no']}: judgment {judgment} does not fit the "
                                  f"lead's outcome {after['outcome']}")
        if judgment is not None or to == "closed":
            need = missing(ev, status, after, attachments)
            if need:
                raise EvidenceRefused(f"举证 of patch {row['patch_no']} ({judgment or 'no judgment'}) "
                                      f"is incomplete, missing: {describe(need)}")
        if ev != (row["evidence"] or {}) or plan.parts:
            plan.patches.append((int(row["id"]), str(row["patch_no"]), ev))
    return plan


def write_evidence(conn: Connection, plan: EvidencePlan | None, by: str) -> dict[str, Any]:
    """Write a checked plan; returns what the step's event records (empty when nothing)."""
    if plan is None or not plan.patches:
        return {}
    for pid, _, ev in plan.patches:
        conn.execute(update(InspectionPatch).where(InspectionPatch.id == pid).values(evidence=ev))
    if plan.parts:
        pid = plan.patches[0][0]
        if conn.execute(select(InspectionPatchPart.id).where(InspectionPatchPart.patch_id == pid)).first():
            raise EvidenceRefused(f"patch {plan.patches[0][1]} is already split")
        for i, part in enumerate(plan.parts, start=1):
            rest = {k: v for k, v in part.items() if k not in ("area_mu", "judgment")}
            conn.execute(insert(InspectionPatchPart).values(
                patch_id=pid, part_no=i, area_mu=part["area_mu"], judgment=part["judgment"],
                evidence=rest, recorded_by=by))
    out: dict[str, Any] = {"evidence": plan.shown()}
    if plan.parts:
        out["parts"] = plan.parts
    return out


def record_evidence(conn: Connection, code: str, by: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Amend the 举证 of lead ``code``'s patches outside a step (an ``evidence_recorded`` event)."""
    row = conn.execute(select(Lead).where(Lead.code == code)).mappings().first()
    if row is None:
        raise EvidenceRefused("no such lead")
    unknown = sorted(set(fields) - ALL_FIELDS)
    if unknown:
        raise EvidenceRefused(f"field(s) {', '.join(unknown)} are not 举证 fields "
                              f"(fields: {', '.join(sorted(ALL_FIELDS))})")
    lead = dict(row)
    plan = plan_evidence(conn, lead, None, fields, {})
    if plan is None:
        raise EvidenceRefused("the lead has no issued inspection patch")
    before = {no: ev for no, ev in conn.execute(select(InspectionPatch.patch_no, InspectionPatch.evidence)
                                                 .where(InspectionPatch.lead_id == lead["id"]))}
    written = write_evidence(conn, plan, by)
    if written:
        append_event(conn, entity="lead", entity_id=lead["id"], lead_code=code,
                     action="evidence_recorded", actor=by,
                     before={"evidence": {no: before.get(no) for no in written["evidence"]}},
                     after=written)
    return written
