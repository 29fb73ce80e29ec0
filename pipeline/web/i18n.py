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
    "team": {"zh": "巡查组", "en": "Team"},
    "imagery": {"zh": "影像", "en": "Imagery"},
    "before": {"zh": "前时相", "en": "Before"},
    "after": {"zh": "后时相", "en": "After"},
    "opacity": {"zh": "透明度", "en": "Opacity"},
    "no_imagery": {"zh": "无影像底图", "en": "No imagery"},
    "leads_shown": {"zh": "个图斑", "en": "leads"},
    "legend": {"zh": "图例", "en": "Legend"},
    "p1": {"zh": "一级（最急）", "en": "1 (most urgent)"},
    "p2": {"zh": "二级", "en": "2"},
    "p3": {"zh": "三级", "en": "3"},
    "p4": {"zh": "四级", "en": "4"},
    "done": {"zh": "已核查及以后", "en": "Verified or later"},
    "open_lead": {"zh": "打开图斑", "en": "Open lead"},
    "zero_report": {"zh": "零报告（巡查未发现问题）", "en": "Zero report (patrol found nothing)"},
    "zero_hint": {"zh": "今天巡查了本片区但没有发现新的违法用地时填写。",
                  "en": "File this when the team patrolled the zone today and found nothing new."},
    "started_at": {"zh": "开始时间", "en": "Started"},
    "ended_at": {"zh": "结束时间", "en": "Ended"},
    "location": {"zh": "巡查路段/地点", "en": "Route or place patrolled"},
    "patrols_today": {"zh": "今日巡查记录", "en": "Patrols recorded today"},
    "zero": {"zh": "零报告", "en": "zero report"},
    "findings": {"zh": "有发现", "en": "findings"},
    "await_dispatch": {"zh": "该图斑尚未派发。主管派发后，巡查人员才能填写现场核查。",
                       "en": "Not dispatched yet: a supervisor dispatches it before the patrol can record the verification."},
    "await_dispatch_short": {"zh": "待派发", "en": "awaiting dispatch"},
    "record_here": {"zh": "可填报", "en": "ready to record"},
    "none_zones": {"zh": "你的账号没有责任片区，请联系管理员。", "en": "Your account has no responsibility zone; ask an administrator."},
    "view_photo": {"zh": "查看照片", "en": "View photo"},
    "photos": {"zh": "现场照片", "en": "Field photos"},
    "time": {"zh": "时间", "en": "Time"},
    "actor": {"zh": "操作人", "en": "By"},
    "action": {"zh": "操作", "en": "Action"},
    "details": {"zh": "内容", "en": "Details"},
    "created": {"zh": "发现入账", "en": "Created"},
    "transition": {"zh": "状态变更", "en": "Status change"},
    "attached": {"zh": "上传附件", "en": "Attachment"},
    "observed": {"zh": "再次观测", "en": "Observed again"},
    "analyst": {"zh": "分析员", "en": "analyst"},
    "supervisor": {"zh": "主管", "en": "supervisor"},
    "patrol": {"zh": "巡查员", "en": "patrol"},
    "centroid": {"zh": "中心点（经度, 纬度）", "en": "Centre (lon, lat)"},
    "navigate": {"zh": "坐标", "en": "Coordinates"},
}


def class_label(lang: str):  # noqa: ANN201 - a plain callable handed to templates
    """A change-class key ("construction") as its label in ``lang`` ("建设占地")."""
    from pipeline.classes import ChangeClass

    def label(key: str | None) -> str:
        if not key:
            return ""
        try:
            found = ChangeClass.from_key(str(key))
        except (KeyError, ValueError):
            return str(key)
        return found.label_zh if lang == "zh" else found.label_en

    return label


def class_labels(lang: str) -> dict[str, str]:
    """Every change class key with its label, for the map's script."""
    from pipeline.classes import ChangeClass

    label = class_label(lang)
    return {c.key: label(c.key) for c in ChangeClass}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else "zh"


def translator(lang: str):  # noqa: ANN201 - a plain callable handed to templates
    def t(key: str) -> str:
        entry = TEXT.get(key)
        return entry.get(lang, entry["zh"]) if entry else key

    return t
