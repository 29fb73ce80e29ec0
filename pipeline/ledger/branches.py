"""The enforcement branches the rules require, checked for :mod:`pipeline.ledger.lifecycle`.

* 限期改正: a stop notice may set a correction deadline (``correction_deadline``); its follow-up
  (``followed_up``, result ``corrected`` or ``not_corrected``) cannot say "not corrected" before
  the deadline has passed.
* 当场纠正: a minor act corrected on the spot closes an illegal lead straight from ``verified``
  without a case (``closed`` with ``disposal=corrected_on_spot`` and what was corrected).
* 拒不停止: a stop that was ignored (``escalated``) must be reported in writing to the
  government and to the level above and copied (抄告) to the departments concerned, each dated;
  all four are required, none before the stop notice.
* 移送: transfer to another department, a higher level or the judiciary (``transferred``); the
  judiciary takes only a filed case.
* 不予立案: a case not filed (``not_filed``) needs the reason, and when people reported it
  (a clue is registered) the reply to them and its date.

Each function takes the lead as a dict (with ``_stopped_on`` and ``_clue`` looked up by the
caller) and the step's fields, and returns ``(lead updates, action record details)``; a refusal
raises the lifecycle's ``TransitionError``. Nothing here writes.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

TRANSFER_TO = ("department", "higher_level", "judiciary")
FOLLOW_UP_RESULTS = ("corrected", "not_corrected")
#: steps that record a branch without moving the lead to another state, and where they may happen
ACTIONS: dict[str, tuple[str, ...]] = {"followed_up": ("stopped", "reported", "filed"),
                                       "escalated": ("stopped", "reported", "filed")}


def _error(code: str, why: str) -> Exception:
    from pipeline.ledger.lifecycle import TransitionError

    return TransitionError(code, why)


def _text(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return (str(value).strip() or None) if value is not None else None


def _date(code: str, fields: dict[str, Any], key: str, today: date, need: bool = True) -> date | None:
    from pipeline.ledger.lifecycle import _day

    day = _day(fields.get(key), code)
    if day is None and need:
        raise _error(code, f"this step needs {key} (--set {key}=YYYY-MM-DD)")
    if day is not None and day > today:
        raise _error(code, f"{key} {day} is in the future")
    return day


def correction_deadline(lead: dict[str, Any], fields: dict[str, Any], on: date) -> date | None:
    from pipeline.ledger.lifecycle import _day

    deadline = _day(fields.get("correction_deadline"), lead["code"])
    if deadline is not None and deadline < on:
        raise _error(lead["code"], f"the correction deadline {deadline} is before the stop notice ({on})")
    return deadline


def followed_up(lead: dict[str, Any], fields: dict[str, Any], on: date, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    code, deadline = lead["code"], lead.get("correction_deadline")
    if deadline is None:
        raise _error(code, "no correction deadline was set with the stop notice; nothing to follow up")
    if lead.get("correction_result") == "corrected":
        raise _error(code, "the follow-up already found the act corrected")
    result = _text(fields, "result")
    if result not in FOLLOW_UP_RESULTS:
        raise _error(code, f"a follow-up needs result={' or '.join(FOLLOW_UP_RESULTS)} (got {result or 'none'})")
    if result == "not_corrected" and on <= deadline:
        raise _error(code, f"the correction deadline {deadline} has not passed on {on}; "
                     "'not corrected' can be found only after it")
    return ({"correction_result": result},
            {"result": result, "deadline": deadline, "situation": _text(fields, "situation")})


def escalated(lead: dict[str, Any], fields: dict[str, Any], on: date, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    code = lead["code"]
    if lead.get("escalated_on") is not None:
        raise _error(code, f"the ignored stop was already reported on {lead['escalated_on']}")
    if lead.get("correction_result") == "corrected":
        raise _error(code, "the follow-up found the act corrected: the stop was not ignored")
    dates = {k: _date(code, fields, k, today) for k in ("gov_report_on", "upper_report_on", "copied_on")}
    copied = [d.strip() for d in str(fields.get("copied_to") or "").split(",") if d.strip()]
    if not copied:
        raise _error(code, "a stop ignored must be copied (抄告) to the departments concerned "
                     "(--set copied_to=DEPT1,DEPT2)")
    stopped_on = lead.get("_stopped_on")
    early = sorted(k for k, d in dates.items() if stopped_on is not None and d is not None and d < stopped_on)
    if early:
        raise _error(code, f"{', '.join(early)} before the stop notice of {stopped_on}")
    return ({"escalated_on": dates["gov_report_on"]},
            {"gov_report_on": dates["gov_report_on"], "upper_report_on": dates["upper_report_on"],
             "copied_to": copied, "copied_on": dates["copied_on"], "party_continued": _text(fields, "situation")})


def corrected_on_spot(lead: dict[str, Any], fields: dict[str, Any], on: date, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    code = lead["code"]
    if _text(fields, "disposal") != "corrected_on_spot" or not _text(fields, "correction"):
        raise _error(code, "an illegal lead is closed after rectification, or straight from verification "
                     "as a minor act corrected on the spot (--set disposal=corrected_on_spot "
                     "--set correction=WHAT_WAS_CORRECTED)")
    return {"disposal": "corrected_on_spot"}, {"correction": _text(fields, "correction")}


def transferred(lead: dict[str, Any], fields: dict[str, Any], on: date, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    code, to = lead["code"], _text(fields, "transfer_to")
    if to not in TRANSFER_TO:
        raise _error(code, f"a transfer needs transfer_to, one of {', '.join(TRANSFER_TO)} (got {to or 'none'})")
    recipient, reason = _text(fields, "recipient"), _text(fields, "reason")
    if not recipient or not reason:
        raise _error(code, "a transfer needs the recipient and the reason (--set recipient=NAME --set reason=TEXT)")
    if to == "judiciary" and not lead.get("case_no"):
        raise _error(code, "only a filed case is transferred to the judiciary (file it first)")
    return ({"transferred_to": to, "disposal": "transferred"},
            {"transfer_to": to, "recipient": recipient, "reason": reason,
             "document_no": _text(fields, "document_no")})


def not_filed(lead: dict[str, Any], fields: dict[str, Any], on: date, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    code, reason = lead["code"], _text(fields, "reason")
    if not reason:
        raise _error(code, "a case not filed needs the reason (--set reason=TEXT)")
    details: dict[str, Any] = {"reason": reason}
    clue = lead.get("_clue")
    if clue is not None and clue.get("replied_on") is None:
        reply, replied_on = _text(fields, "reply"), _date(code, fields, "replied_on", today, need=False)
        if not reply or replied_on is None:
            raise _error(code, "people reported this lead: a case not filed needs the reply to them "
                         "(--set reply=TEXT --set replied_on=YYYY-MM-DD)")
        details.update(reply=reply, replied_on=replied_on, clue_id=clue["id"])
    return {"disposal": "not_filed"}, details


PLANNERS: dict[str, Callable[[dict[str, Any], dict[str, Any], date, date],
                             tuple[dict[str, Any], dict[str, Any]]]] = {
    "followed_up": followed_up, "escalated": escalated, "transferred": transferred,
    "not_filed": not_filed, "corrected_on_spot": corrected_on_spot,
}
