"""A batch out for the national system: one row per patch, in the order a county fills it in,
Chinese headers (pinyin field names in a Shapefile, whose DBF allows 10 characters, GBK).
CSV is UTF-8 with a BOM so Excel in China opens it as it is."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pipeline.errors import OutputError
from pipeline.review.landuse import land_use_name

FORMATS = ("xlsx", "csv", "shp")
#: (frame column or computed key, Chinese header, Shapefile field)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("patch_no", "监测编号", "JCBH"), ("admin_code", "行政区代码", "XZQDM"),
    ("area_mu", "图斑面积(亩)", "TBMJ"), ("judgment", "合法性判定", "PDJG"),
    ("violation_type", "违法类型", "WFLX"), ("illegal_mu", "违法面积(亩)", "WFMJ"),
    ("farmland_mu", "耕地面积(亩)", "GDMJ"), ("basic_farmland_mu", "永久基本农田面积(亩)", "JBNTMJ"),
    ("land_use", "地类编码", "DLBM"), ("land_use_name", "地类名称", "DLMC"),
    ("project", "项目名称", "XMMC"), ("party", "违法主体", "WFZT"),
    ("construction", "新建/续建", "XJXJ"), ("approval_no", "批准文号", "PZWH"),
    ("rectification", "整改措施", "ZGCS"), ("rectified_mu", "整改面积(亩)", "ZGMJ"),
    ("rectified_on", "整改日期", "ZGRQ"), ("case_no", "立案编号", "LABH"),
    ("lead_code", "线索编号", "XSBH"), ("notes", "备注", "BZ"),
)


def _notes(row: dict[str, Any]) -> str | None:
    parts = row.get("parts") or []
    bits = [row.get("note")] if row.get("note") else []
    if parts:
        bits.append("拆分: " + "; ".join(f"{p['part_no']}号 {p['judgment']} {p['area_mu']:g}亩" for p in parts))
    return "；".join(str(b) for b in bits) or None


def export_rows(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows (standard keys of :data:`COLUMNS`) of a batch's patches (``Ledger.batch_patches``)."""
    rows = []
    for rec in frame.to_dict("records"):
        ev = rec.get("evidence") or {}
        row = {key: ev.get(key, rec.get(key)) for key, _, _ in COLUMNS}
        row["area_mu"] = rec.get("area_mu") if ev.get("area_mu") is None else ev["area_mu"]
        row["land_use_name"] = land_use_name(ev.get("land_use"))
        row["party"] = ev.get("party")
        row["case_no"] = rec.get("case_no")
        row["notes"] = _notes(rec)
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
    return rows


def write_export(frame: gpd.GeoDataFrame, path: Path, fmt: str) -> int:
    """Write the batch's rows to ``path``; returns the number of rows."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise OutputError(path, f"unknown format '{fmt}' (use one of {', '.join(FORMATS)})")
    if not path.parent.is_dir():
        raise OutputError(path, f"folder {path.parent} does not exist")
    rows = export_rows(frame)
    table = pd.DataFrame(rows, columns=[k for k, _, _ in COLUMNS])
    if fmt == "shp":
        out = gpd.GeoDataFrame(table.rename(columns={k: f for k, _, f in COLUMNS}).astype(object),
                               geometry=frame.geometry.values, crs=frame.crs)
        out = out.astype({f: str for _, _, f in COLUMNS}).replace({"None": None})
        out.to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="GBK")
        return len(out)
    table = table.rename(columns={k: h for k, h, _ in COLUMNS})
    try:
        if fmt == "csv":
            table.to_csv(path, index=False, encoding="utf-8-sig")
        else:
            table.to_excel(path, index=False, sheet_name="举证")
    except OSError as exc:
        raise OutputError(path, f"cannot write: {exc.strerror or exc}") from None
    return len(table)
