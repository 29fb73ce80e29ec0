"""The 举证 vocabulary and the evidence checklist of each national legality judgment (pure).

A judgment is one of :data:`JUDGMENTS`; each needs its evidence before the lead takes the step:
a legal patch its approval (number and date), a facility-agriculture patch its filing number,
an illegal one its violation type and area, then its stop notice, case, rectification and an
after-photo; every patch its land-use code, its area and a field photo with time, GPS and bearing
before it is closed. :func:`missing` lists what is not there yet, in the words of the form.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.review.landuse import check_land_use

#: national legality judgment -> the lifecycle outcome it means
JUDGMENTS: Mapping[str, str] = {
    "合法": "legal", "设施农用地": "legal", "农村道路": "legal", "其他合法情形": "legal",
    "违法": "illegal", "不变化": "false_positive", "伪变化": "false_positive",
}
VIOLATION_TYPES = ("非农建设", "未批先建", "批少占多", "未批先占", "非法采矿", "非法占用耕地", "其他违法")
RECTIFICATIONS = ("拆除复耕", "拆除复绿", "没收", "补办手续", "罚款", "其他整改")
CONSTRUCTION = ("新建", "续建")
AREA_FIELDS = ("area_mu", "farmland_mu", "basic_farmland_mu", "illegal_mu", "rectified_mu")
#: 举证 fields a verification may carry
VERIFY_FIELDS = frozenset({
    "judgment", "violation_type", "land_use", "project", "construction", "area_mu", "farmland_mu",
    "basic_farmland_mu", "illegal_mu", "approval_no", "approval_on", "facility_record_no", "basis",
    "parts", "patch",
})
RECTIFY_FIELDS = frozenset({"rectification", "rectified_mu", "rectified_on", "patch"})
ALL_FIELDS = VERIFY_FIELDS | RECTIFY_FIELDS | {"party"}
#: the form's words for each item
LABELS: Mapping[str, str] = {
    "judgment": "判定结果 (judgment)", "land_use": "地类编码 (land_use)", "area_mu": "图斑面积 (area_mu)",
    "approval_no": "批准文号 (approval_no)", "approval_on": "批准日期 (approval_on)",
    "facility_record_no": "设施农用地备案编号 (facility_record_no)", "basis": "合法依据说明 (basis)",
    "violation_type": "违法类型 (violation_type)", "illegal_mu": "违法面积 (illegal_mu)",
    "party": "违法主体 (party)", "construction": "新建/续建 (construction)",
    "notice_no": "责令停止通知书 (stop notice)", "case_no": "立案编号 (case_no)",
    "rectification": "整改措施 (rectification)", "rectified_mu": "整改面积 (rectified_mu)",
    "rectified_on": "整改日期 (rectified_on)", "after_photo": "整改后照片 (after-photo attachment)",
    "field_photo": "现场照片含时间、GPS、方位角 (field photo with time, GPS and bearing)",
}
_ORDER = ("new", "dispatched", "verified", "stopped", "reported", "filed", "rectified", "closed")


def _has(ev: Mapping[str, Any], key: str) -> bool:
    v = ev.get(key)
    return v is not None and str(v).strip() != ""


def normalise(fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The 举证 values of ``fields`` checked and typed; ``(values, problems)``."""
    ev: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in fields.items():
        if key not in ALL_FIELDS or key == "patch" or value is None or str(value).strip() == "":
            continue
        text = str(value).strip() if not isinstance(value, list) else value
        if key in AREA_FIELDS:
            try:
                area = float(text)  # type: ignore[arg-type]
            except ValueError:
                problems.append(f"{key} '{value}' is not a number of mu")
                continue
            if area < 0:
                problems.append(f"{key} must not be negative")
            ev[key] = area
        elif key == "judgment" and text not in JUDGMENTS:
            problems.append(f"judgment '{text}' is not one of {', '.join(JUDGMENTS)}")
        elif key == "violation_type" and text not in VIOLATION_TYPES:
            problems.append(f"violation_type '{text}' is not one of {', '.join(VIOLATION_TYPES)}")
        elif key == "rectification" and text not in RECTIFICATIONS:
            problems.append(f"rectification '{text}' is not one of {', '.join(RECTIFICATIONS)}")
        elif key == "construction" and text not in CONSTRUCTION:
            problems.append(f"construction '{text}' is not one of {', '.join(CONSTRUCTION)}")
        elif key == "land_use" and check_land_use(str(text)):
            problems.append(str(check_land_use(str(text))))
        elif key == "parts":
            parts, bad = parse_parts(text)
            problems.extend(bad)
            ev[key] = parts
        else:
            ev[key] = str(text).upper() if key == "land_use" else text
    return ev, problems


def parse_parts(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Parts of a split patch: a JSON list of ``{area_mu, judgment, ...}`` (each checked)."""
    try:
        items = json.loads(value) if isinstance(value, str) else list(value)
    except (ValueError, TypeError):
        return [], ["parts must be a JSON list of {\"area_mu\": .., \"judgment\": ..}"]
    parts, problems = [], []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"part {i} is not an object")
            continue
        ev, bad = normalise({k: v for k, v in item.items() if k != "parts"})
        problems.extend(f"part {i}: {b}" for b in bad)
        for need in ("area_mu", "judgment"):
            if need not in ev:
                problems.append(f"part {i}: missing {need}")
        parts.append(ev)
    if len(parts) < 2 and not problems:
        problems.append("a split needs at least two parts")
    return parts, problems


def missing(ev: Mapping[str, Any], status: str, lead: Mapping[str, Any],
            attachments: list[dict[str, Any]]) -> list[str]:
    """What the checklist of ``ev['judgment']`` still lacks for a lead at ``status``."""
    need: list[str] = []
    rank = _ORDER.index(status) if status in _ORDER else 0
    judgment = ev.get("judgment")
    if judgment is None:
        return ["judgment"]
    need += [k for k in ("land_use", "area_mu") if not _has(ev, k)]
    if judgment == "合法":
        need += [k for k in ("approval_no", "approval_on") if not _has(ev, k)]
    elif judgment == "设施农用地" and not _has(ev, "facility_record_no"):
        need.append("facility_record_no")
    elif judgment == "其他合法情形" and not _has(ev, "basis"):
        need.append("basis")
    elif judgment == "违法":
        need += [k for k in ("violation_type", "illegal_mu", "construction") if not _has(ev, k)]
        if not _has(ev, "party") and not _has(lead, "party"):
            need.append("party")
        if rank >= _ORDER.index("stopped") and not _has(lead, "notice_no"):
            need.append("notice_no")
        if rank >= _ORDER.index("filed") and not _has(lead, "case_no"):
            need.append("case_no")
        if rank >= _ORDER.index("rectified"):
            need += [k for k in ("rectification", "rectified_mu", "rectified_on") if not _has(ev, k)]
            if not any(a.get("kind") == "after_photo" for a in attachments):
                need.append("after_photo")
    if status == "closed" and not any(
            a.get("kind") == "photo" and a.get("taken_at") is not None and a.get("lon") is not None and a.get("lat") is not None
            and a.get("bearing") is not None for a in attachments):
        need.append("field_photo")
    return need


def describe(need: list[str]) -> str:
    return ", ".join(LABELS.get(k, k) for k in need)
