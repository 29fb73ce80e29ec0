"""Land-use codes of GB/T 21010-2017 as the third national land survey (三调) uses them.

Second-level codes with their names, including the survey's merged classes (05H1, 08H1, 08H2)
and the standard's own 05xx/08xx subdivisions, which counties still meet in older data.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LAND_USE: Mapping[str, str] = MappingProxyType({
    "0101": "水田", "0102": "水浇地", "0103": "旱地",
    "0201": "果园", "0202": "茶园", "0203": "橡胶园", "0204": "其他园地",
    "0301": "乔木林地", "0302": "竹林地", "0303": "红树林地", "0304": "森林沼泽", "0305": "灌木林地",
    "0306": "灌丛沼泽", "0307": "其他林地",
    "0401": "天然牧草地", "0402": "沼泽草地", "0403": "人工牧草地", "0404": "其他草地",
    "05H1": "商业服务业设施用地", "0501": "零售商业用地", "0502": "批发市场用地", "0503": "餐饮用地",
    "0504": "旅馆用地", "0505": "商务金融用地", "0506": "娱乐用地", "0507": "其他商服用地",
    "0508": "物流仓储用地",
    "0601": "工业用地", "0602": "采矿用地", "0603": "盐田",
    "0701": "城镇住宅用地", "0702": "农村宅基地",
    "08H1": "机关团体新闻出版用地", "08H2": "科教文卫用地", "0801": "机关团体用地", "0802": "新闻出版用地",
    "0803": "教育用地", "0804": "科研用地", "0805": "医疗卫生用地", "0806": "社会福利用地",
    "0807": "文化设施用地", "0808": "体育用地", "0809": "公用设施用地", "0810": "公园与绿地",
    "09": "特殊用地",
    "1001": "铁路用地", "1002": "轨道交通用地", "1003": "公路用地", "1004": "城镇村道路用地",
    "1005": "交通服务场站用地", "1006": "农村道路", "1007": "机场用地", "1008": "港口码头用地",
    "1009": "管道运输用地",
    "1101": "河流水面", "1102": "湖泊水面", "1103": "水库水面", "1104": "坑塘水面", "1105": "沿海滩涂",
    "1106": "内陆滩涂", "1107": "沟渠", "1108": "沼泽地", "1109": "水工建筑用地", "1110": "冰川及永久积雪",
    "1201": "空闲地", "1202": "设施农用地", "1203": "田坎", "1204": "盐碱地", "1205": "沙地",
    "1206": "裸土地", "1207": "裸岩石砾地",
})
#: cultivated land (耕地) codes
FARMLAND = ("0101", "0102", "0103")


def land_use_name(code: str | None) -> str | None:
    return None if code is None else LAND_USE.get(code.strip().upper())


def check_land_use(code: str) -> str | None:
    """``None`` when ``code`` is a 三调 code, else the reason it is not."""
    if code.strip().upper() in LAND_USE:
        return None
    return f"'{code}' is not a GB/T 21010-2017 (三调) land-use code, e.g. 0101 水田, 0601 工业用地, 1202 设施农用地"
