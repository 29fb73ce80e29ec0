"""Interface text: Chinese first, English with ``?lang=en`` (remembered in a cookie)."""
from __future__ import annotations

from fastapi import Request

LANG_COOKIE = "lp_lang"
LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "动态巡查", "en": "Land patrol"},
    "login": {"zh": "登录", "en": "Sign in"},
    "logout": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "bad_login": {"zh": "用户名或密码错误", "en": "Wrong user name or password"},
    "map": {"zh": "图斑地图", "en": "Map of leads"},
    "sheet": {"zh": "今日巡查单", "en": "Today's patrol sheet"},
    "status": {"zh": "状态", "en": "Status"},
    "zone": {"zh": "责任片区", "en": "Zone"},
    "level": {"zh": "保护级别", "en": "Level"},
    "overdue": {"zh": "逾期", "en": "Overdue"},
    "any": {"zh": "全部", "en": "All"},
    "filter": {"zh": "筛选", "en": "Filter"},
    "lead": {"zh": "图斑", "en": "Lead"},
    "class": {"zh": "变化类型", "en": "Change class"},
    "area": {"zh": "面积", "en": "Area"},
    "priority": {"zh": "优先级", "en": "Priority"},
    "zones": {"zh": "涉及保护区", "en": "Protected zones"},
    "approvals": {"zh": "批准用地", "en": "Approvals"},
    "share": {"zh": "占比", "en": "Share"},
    "history": {"zh": "事件记录", "en": "History"},
    "before_after": {"zh": "前后影像", "en": "Before / after"},
    "no_chip": {"zh": "无影像切片", "en": "No image chip"},
    "verify": {"zh": "现场核查", "en": "Verification"},
    "outcome": {"zh": "核查结果", "en": "Outcome"},
    "personnel": {"zh": "核查人员（至少两人，逗号分隔）", "en": "Personnel (at least two, comma separated)"},
    "stop_measure": {"zh": "制止措施", "en": "Stop measure"},
    "notice_no": {"zh": "通知书编号", "en": "Notice no."},
    "notes": {"zh": "备注", "en": "Notes"},
    "photo": {"zh": "现场照片（JPEG/PNG）", "en": "Photo (JPEG/PNG)"},
    "taken_at": {"zh": "拍摄时间", "en": "Taken at"},
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "gps": {"zh": "获取当前位置", "en": "Use my location"},
    "submit": {"zh": "提交", "en": "Submit"},
    "dispatch": {"zh": "派发", "en": "Dispatch"},
    "assignee": {"zh": "承办人", "en": "Assignee"},
    "saved": {"zh": "已保存", "en": "Saved"},
    "print": {"zh": "打印", "en": "Print"},
    "order": {"zh": "顺序", "en": "Order"},
    "leg": {"zh": "距上一点（米）", "en": "From previous (m)"},
    "no_targets": {"zh": "今日无待查图斑", "en": "No open targets today"},
    "illegal": {"zh": "违法", "en": "Illegal"},
    "legal": {"zh": "合法", "en": "Legal"},
    "false_positive": {"zh": "误报", "en": "False positive"},
    "not_found": {"zh": "现场未发现", "en": "Not found"},
    "new": {"zh": "新发现", "en": "New"},
    "dispatched": {"zh": "已派发", "en": "Dispatched"},
    "verified": {"zh": "已核查", "en": "Verified"},
    "stopped": {"zh": "已制止", "en": "Stopped"},
    "reported": {"zh": "已报告", "en": "Reported"},
    "filed": {"zh": "已立案", "en": "Filed"},
    "rectified": {"zh": "已整改", "en": "Rectified"},
    "closed": {"zh": "已销号", "en": "Closed"},
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else "zh"


def translator(lang: str):  # noqa: ANN201 - a plain callable handed to templates
    def t(key: str) -> str:
        entry = TEXT.get(key)
        return entry.get(lang, entry["zh"]) if entry else key

    return t
