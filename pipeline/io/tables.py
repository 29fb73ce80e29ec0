"""Lead tables people open in Excel or WPS without fixing anything: CSV and XLSX.

Both carry the same rows as the other export formats (:func:`pipeline.io.export.flatten`):
nested values as JSON text, dates as ISO 8601, plus ``lon``/``lat`` of a point inside each lead.
Headers and the words of closed lists (status, outcome, source, change class) are in ``lang``
(Chinese by default, :mod:`pipeline.i18n`); codes, numbers and dates are left as they are.

- CSV is UTF-8 with a byte-order mark, so Excel on a Chinese Windows reads it as UTF-8 and
  not as GBK; the geometry goes in a ``geometry`` column as WKT.
- XLSX (openpyxl) has one sheet of leads with a bold, frozen header row, numbers as numbers and
  an autofilter; it has no geometry column (a cell holds at most 32,767 characters).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from pipeline.i18n import has, norm_lang, t

#: columns whose values are words of a closed list, with the catalogue prefix of those words
VALUE_TERMS = {"status": "state", "outcome": "outcome", "source": "source"}
XLSX_MAX_CELL = 32_767


def table(flat: gpd.GeoDataFrame, lang: str | None, wkt: bool) -> pd.DataFrame:
    """``flat`` (already flattened, EPSG:4326) as a plain table with headers in ``lang``."""
    lang = norm_lang(lang)
    out = pd.DataFrame(flat.drop(columns=flat.geometry.name))
    pts = flat.geometry.representative_point()
    out["lon"], out["lat"] = pts.x, pts.y
    if wkt:
        out["geometry"] = flat.geometry.to_wkt(rounding_precision=9)  # 0.1 mm
    for col, kind in VALUE_TERMS.items():
        if col in out.columns:
            out[col] = out[col].map(lambda v, k=kind: _word(k, v, lang))
    if "change_class" in out.columns:
        out["change_class"] = out["change_class"].map(lambda v: _class_word(v, lang))
    return out.rename(columns={c: header(c, lang) for c in out.columns})


def header(column: str, lang: str | None) -> str:
    key = f"col.{column}"
    return t(key, lang) if has(key) else column


def _word(kind: str, value: Any, lang: str) -> Any:
    key = f"{kind}.{value}"
    return t(key, lang) if isinstance(value, str) and has(key) else value


def _class_word(value: Any, lang: str) -> Any:
    from pipeline.classes import ChangeClass

    try:
        cls = ChangeClass.from_key(str(value))
    except KeyError:
        return value
    return cls.label_zh if lang == "zh" else cls.key


def write_csv(flat: gpd.GeoDataFrame, path: Path, lang: str | None = None) -> None:
    table(flat, lang, wkt=True).to_csv(path, index=False, encoding="utf-8-sig")


def write_xlsx(flat: gpd.GeoDataFrame, path: Path, lang: str | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = table(flat, lang, wkt=False)
    book = Workbook()
    sheet = book.active
    sheet.title = t("table.leads", lang)
    sheet.append(list(rows.columns))
    for record in rows.itertuples(index=False):
        sheet.append([_xlsx_cell(v) for v in record])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    if len(rows.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(rows.columns))}{len(rows) + 1}"
    for i, col in enumerate(rows.columns, start=1):
        longest = max([len(str(col))] + [len(str(v)) for v in rows[col].head(200)])
        sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, longest * 1.2 + 2))
    book.save(path)


def _xlsx_cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, str) and len(value) > XLSX_MAX_CELL:
        return value[: XLSX_MAX_CELL - 1] + "…"
    return value
