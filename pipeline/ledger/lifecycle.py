"""The lead lifecycle, enforced here and nowhere else.

    new -> dispatched (assignee) -> verified (outcome, >= 2 personnel)
      outcome illegal:   verified -> stopped (stop_measure, notice_no) -> reported -> filed (case_no)
                         -> rectified -> closed
      legal / false_positive / not_found:   verified -> closed
    branches the rules require (checked in :mod:`pipeline.ledger.branches`):
      verified -> closed as a minor act corrected on the spot (disposal=corrected_on_spot)
      verified | stopped | reported | filed -> transferred (移送) -> closed
      reported -> not_filed (不予立案, with the reply to whoever reported it) -> closed
      stopped | reported | filed: followed_up (限期改正 follow-up), escalated (stop ignored:
      reports to the government and the level above, copies to departments) keep the state

:func:`plan_transition` is pure: it checks a step against the lead as it is and returns the
column values to write, or raises :class:`TransitionError` saying what is missing. The caller
(:func:`apply_transition`) writes the lead, the step's record (verification, stop notice, report,
case) and the event in the one write transaction, so a refused step changes nothing.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pipeline.errors import LedgerError
from pipeline.i18n import msg, term, terms
from pipeline.ledger import branches
from pipeline.ledger.calendar import REPORT_DEADLINE_WORKING_DAYS, WorkCalendar
from pipeline.ledger.codes import jsonable
from pipeline.ledger.events import append_event
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_enforcement import Clue, EnforcementAction
from pipeline.ledger.schema_work import Case, Report, StopNotice, Verification
from pipeline.timeutil import now_utc

STATES = ("new", "dispatched", "verified", "stopped", "reported", "filed", "rectified", "closed",
          "transferred", "not_filed")
OUTCOMES = ("illegal", "legal", "false_positive", "not_found")
#: why a lead was a false positive (revision 0008): a fixed list, so analysts can count and learn
FALSE_POSITIVE_REASONS = ("seasonal_farming", "greenhouse", "cloud_shadow", "road_works",
                          "already_approved", "water_level", "image_misregistration", "other")
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("dispatched",), "dispatched": ("verified",),
    "verified": ("stopped", "closed", "transferred"), "stopped": ("reported", "transferred"),
    "reported": ("filed", "not_filed", "transferred"), "filed": ("rectified", "transferred"),
    "rectified": ("closed",), "closed": (), "transferred": ("closed",), "not_filed": ("closed",),
}
#: fields each step accepts (``on`` is the date of the step, today by default)
STEP_FIELDS: dict[str, frozenset[str]] = {
    "dispatched": frozenset({"assignee", "on"}),
    "verified": frozenset({"outcome", "personnel", "on", "patrol_id", "party", "description",
                           "reason"}),
    "stopped": frozenset({"stop_measure", "notice_no", "correction_deadline", "on"}),
    "reported": frozenset({"report_no", "major", "on"}),
    "filed": frozenset({"case_no", "on"}),
    "rectified": frozenset({"on"}),
    "closed": frozenset({"on", "disposal", "correction"}),
    "transferred": frozenset({"transfer_to", "recipient", "reason", "document_no", "on"}),
    "not_filed": frozenset({"reason", "reply", "replied_on", "on"}),
    "followed_up": frozenset({"result", "situation", "on"}),
    "escalated": frozenset({"gov_report_on", "upper_report_on", "copied_to", "copied_on",
                            "situation", "on"}),
}
OPEN_AFTER_VERIFY_ILLEGAL = ("verified", "stopped")  # report not yet made


class TransitionError(LedgerError):
    """A step the lifecycle refuses; ``str(err)`` is ``"<lead code>: <why>"``. Nothing was written."""

    exit_code = 2


def _text(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _names(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    out: list[str] = []
    for item in (str(i).strip() for i in items):
        if item and item not in out:
            out.append(item)
    return out


def _day(value: Any, code: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TransitionError(code, msg("ledger.bad_date", value=value)) from None


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y", "major")


def plan_transition(lead: dict[str, Any], to: str, fields: dict[str, Any], today: date,
                    calendar: WorkCalendar) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check one step; returns ``(lead column updates, step record values)``."""
    code, status = lead["code"], lead["status"]
    if to not in STATES and to not in branches.ACTIONS:
        raise TransitionError(code, msg("ledger.unknown_state", to=to, states=terms("state", STATES)))
    if to in branches.ACTIONS and status not in branches.ACTIONS[to]:
        raise TransitionError(code, f"{to} is recorded only while the lead is "
                              f"{' or '.join(branches.ACTIONS[to])} (it is {status})")
    if to not in branches.ACTIONS and to not in NEXT[status]:
        allowed = terms("state", NEXT[status]) or msg("ledger.no_next")
        raise TransitionError(code, msg("ledger.cannot_go", frm=term("state", status),
                                        to=term("state", to), allowed=allowed))
    unknown = sorted(set(fields) - STEP_FIELDS[to] - _evidence_fields(to))
    if unknown:
        raise TransitionError(code, msg("ledger.foreign_fields", fields=", ".join(unknown),
                                        to=term("state", to), takes=", ".join(sorted(STEP_FIELDS[to]))))
    on = _day(fields.get("on"), code) or today
    if on > today:
        raise TransitionError(code, msg("ledger.future_date", on=on))
    if to in branches.ACTIONS or to in ("transferred", "not_filed"):
        if to in ("transferred", "not_filed"):
            _need_illegal(lead, to)
        changes, details = branches.PLANNERS[to](lead, fields, on, today)
        moved = {} if to in branches.ACTIONS else {"status": to, "status_changed_on": on}
        return moved | changes, {"kind": to, "acted_on": on, "details": details}
    upd: dict[str, Any] = {"status": to, "status_changed_on": on}
    record: dict[str, Any] = {}
    if to == "dispatched":
        assignee = _text(fields, "assignee") or lead.get("assignee")
        if not assignee:
            raise TransitionError(code, msg("ledger.need_assignee"))
        upd["assignee"] = assignee
    elif to == "verified":
        outcome = _text(fields, "outcome")
        if outcome not in OUTCOMES:
            raise TransitionError(code, msg("ledger.need_outcome", outcomes=terms("outcome", OUTCOMES),
                                            got=outcome or msg("ledger.none")))
        personnel = _names(fields.get("personnel"))
        if len(personnel) < 2:
            raise TransitionError(code, msg("ledger.need_personnel"))
        reason = _text(fields, "reason")
        if reason is not None and outcome != "false_positive":
            raise TransitionError(code, msg("ledger.reason_only_fp"))
        if reason is not None and reason not in FALSE_POSITIVE_REASONS:
            raise TransitionError(code, msg("ledger.unknown_reason", reason=reason,
                                            reasons=", ".join(FALSE_POSITIVE_REASONS)))
        upd.update(outcome=outcome, personnel=personnel, verified_on=on)
        if reason is not None:
            upd["fp_reason"] = reason
        for key in ("party", "description"):
            if _text(fields, key):
                upd[key] = _text(fields, key)
        if outcome == "illegal":
            upd["report_due"] = calendar.add_working_days(on, REPORT_DEADLINE_WORKING_DAYS)
        record = {"verified_on": on, "outcome": outcome, "personnel": personnel, "reason": reason,
                  "patrol_id": int(fields["patrol_id"]) if fields.get("patrol_id") else None}
    elif to == "stopped":
        _need_illegal(lead, to)
        measure, notice = _text(fields, "stop_measure"), _text(fields, "notice_no")
        if not measure or not notice:
            raise TransitionError(code, msg("ledger.need_stop"))
        upd.update(stop_measure=measure, notice_no=notice)
        deadline = branches.correction_deadline(lead, fields, on)
        if deadline is not None:
            upd["correction_deadline"] = deadline
        record = {"notice_no": notice, "measure": measure, "issued_on": on}
    elif to == "reported":
        _need_illegal(lead, to)
        upd["reported_on"] = on
        record = {"report_no": _text(fields, "report_no"), "reported_on": on,
                  "due_on": lead.get("report_due"), "major": _flag(fields.get("major", False))}
    elif to == "filed":
        case_no = _text(fields, "case_no")
        if not case_no:
            raise TransitionError(code, msg("ledger.need_case_no"))
        upd["case_no"] = case_no
        record = {"case_no": case_no, "filed_on": on}
    elif to == "closed":
        if status == "verified" and lead.get("outcome") == "illegal":
            changes, details = branches.corrected_on_spot(lead, fields, on, today)
            upd.update(changes)
            record = {"kind": "corrected_on_spot", "acted_on": on, "details": details}
        elif fields.get("disposal") is not None or fields.get("correction") is not None:
            raise TransitionError(code, "disposal/correction belong only to closing a lead verified "
                                  "illegal on the spot")
        upd["closed_on"] = on
    return upd, record


def _evidence_fields(to: str) -> frozenset[str]:
    """举证 fields the step to ``to`` also takes (see :mod:`pipeline.ledger.inspection_evidence`)."""
    from pipeline.ledger.inspection_evidence import STEP_EVIDENCE

    return STEP_EVIDENCE.get(to, frozenset())


def _need_illegal(lead: dict[str, Any], to: str) -> None:
    if lead.get("outcome") != "illegal":
        raise TransitionError(lead["code"], msg("ledger.need_illegal", to=term("state", to),
                                                outcome=term("outcome", lead.get("outcome"))))


_RECORD_TABLE = {"verified": Verification, "stopped": StopNotice, "reported": Report, "filed": Case}
_UNIQUE = {"stopped": ("notice_no", StopNotice.notice_no), "filed": ("case_no", Case.case_no)}


def apply_transition(conn: Connection, code: str, to: str, by: str, fields: dict[str, Any],
                     note: str | None, today: date, calendar: WorkCalendar) -> dict[str, Any]:
    """Check and write one step inside the caller's write transaction; returns the updates."""
    if not by or not by.strip():
        raise TransitionError(code, msg("ledger.need_by"))
    row = conn.execute(select(Lead).where(Lead.code == code)).mappings().first()
    if row is None:
        raise TransitionError(code, msg("ledger.no_lead"))
    lead = dict(row)
    lead["_stopped_on"] = conn.execute(select(StopNotice.issued_on).where(
        StopNotice.lead_id == lead["id"]).order_by(StopNotice.issued_on).limit(1)).scalar()
    clue = conn.execute(select(Clue.id, Clue.replied_on).where(Clue.lead_id == lead["id"])
                        .order_by(Clue.replied_on.is_not(None), Clue.id).limit(1)).mappings().first()
    lead["_clue"] = None if clue is None else dict(clue)
    from pipeline.ledger import inspection_evidence as ie

    try:  # 举证 of issued patches (satellite inspection): judgment -> outcome, then its checklist
        fields = ie.derive_outcome(fields) if to == "verified" else fields
        upd, record = plan_transition(lead, to, fields, today, calendar)
        evidence = ie.plan_evidence(conn, lead, to, fields, upd)
    except ie.EvidenceRefused as exc:
        raise TransitionError(code, str(exc)) from None
    if to in _UNIQUE:
        key, column = _UNIQUE[to]
        if conn.execute(select(column).where(column == record[key])).first() is not None:
            raise TransitionError(code, msg("ledger.number_used", field=term("field", key),
                                            value=record[key]))
    action_id = None
    if record.get("kind"):
        details = record["details"]
        action_id = conn.execute(insert(EnforcementAction).values(
            lead_id=lead["id"], recorded_by=by, kind=record["kind"], acted_on=record["acted_on"],
            details=jsonable(details)).returning(EnforcementAction.id)).scalar_one()
        if details.get("clue_id") is not None:  # the reply of a case not filed answers the clue
            conn.execute(update(Clue).where(Clue.id == details["clue_id"]).values(
                reply=details["reply"], replied_on=details["replied_on"]))
    elif record:
        conn.execute(insert(_RECORD_TABLE[to]).values(lead_id=lead["id"], recorded_by=by, **record))
    conn.execute(update(Lead).where(Lead.id == lead["id"]).values(
        **upd, updated_at=now_utc()))
    try:
        shown = ie.write_evidence(conn, evidence, by)
    except ie.EvidenceRefused as exc:
        raise TransitionError(code, str(exc)) from None
    # a step within a state (follow-up, stop ignored) is its own action: it moves no status
    action = "transition" if "status" in upd else to
    append_event(conn, entity="lead", entity_id=lead["id"], lead_code=code, action=action,
                 actor=by, before={k: lead.get(k) for k in upd}, after=upd | shown, note=note)
    if record.get("kind"):  # the branch's own record, beside the lead's state change
        append_event(conn, entity="enforcement_action", entity_id=action_id, lead_code=code,
                     action=record["kind"], actor=by, after=jsonable(record["details"]))
    return upd
