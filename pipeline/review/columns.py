"""Column names of an issued patch list: the national field names (Chinese and pinyin) as
built-in aliases, anything else through a column map (the zones' :class:`ColumnMap` mechanism).
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from pipeline.errors import InputError
from pipeline.zones import ColumnMap

#: standard columns of a patch; ``lon``/``lat``/``wkt`` only for tables without geometry
PATCH_COLUMNS: tuple[str, ...] = ("patch_no", "admin_code", "area_mu", "before_date", "after_date",
                                  "label", "note", "lon", "lat", "wkt")

#: built-in aliases per standard column, looked up case-insensitively in this order
ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "patch_no": ("监测编号", "JCBH", "图斑编号", "TBBH", "patch_no"),
    "admin_code": ("行政区代码", "XZQDM", "行政区划代码", "XZQHDM", "admin_code"),
    "area_mu": ("图斑面积", "TBMJ", "图斑面积（亩）", "图斑面积(亩)", "area_mu"),
    "before_date": ("前时相", "QSX", "before_date"),
    "after_date": ("后时相", "HSX", "after_date"),
    "label": ("批次", "PC", "label"),
    "note": ("备注", "BZ", "note"),
    "lon": ("经度", "中心点经度", "JD", "lon", "longitude", "X"),
    "lat": ("纬度", "中心点纬度", "WD", "lat", "latitude", "Y"),
    "wkt": ("wkt", "geometry", "几何"),
})


class PatchColumnMap(ColumnMap):
    """A column map for patch lists: ``columns`` maps a :data:`PATCH_COLUMNS` name to the file's."""

    @classmethod
    def standard_columns(cls) -> tuple[str, ...]:
        return PATCH_COLUMNS


def resolve_columns(frame: pd.DataFrame, source: str, cmap: ColumnMap | None,
                    geometry_name: str | None = None) -> dict[str, str]:
    """Standard column -> the frame's column, for every standard column found.

    A column the map names must exist (else :class:`InputError` naming the file); built-in
    aliases are tried otherwise. ``patch_no`` is required.
    """
    mapped = dict(cmap.columns) if cmap is not None else {}
    folded = {str(c).strip().lower(): c for c in frame.columns if c != geometry_name}
    out: dict[str, str] = {}
    for std in PATCH_COLUMNS:
        if std in mapped:
            wanted = mapped[std]
            hit = wanted if wanted in frame.columns else folded.get(wanted.strip().lower())
            if hit is None:
                raise InputError(source, f"column map names '{wanted}' for {std}, the file has no "
                                 f"such column (columns: {sorted(map(str, folded.values()))})")
            out[std] = str(hit)
            continue
        for alias in ALIASES[std]:
            hit = folded.get(alias.lower())
            if hit is not None and hit not in out.values():
                out[std] = str(hit)
                break
    if "patch_no" not in out:
        raise InputError(source, "no monitoring-number column (监测编号 / JCBH); name it with a column "
                         f"map (--columns FILE, columns: {{patch_no: ...}}); columns: "
                         f"{sorted(map(str, folded.values()))}")
    return out
