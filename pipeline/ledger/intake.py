"""Leads and approved patches from a run, checked and turned into plain rows for the ledger.

Everything here happens before the write transaction starts: a frame that cannot be stored
(no CRS, no geometry, negative area) is refused while the ledger is still untouched.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from pipeline.classes import m2_to_mu
from pipeline.ledger.codes import jsonable
from pipeline.ledger.matching import to_storage


@dataclass
class PatchRow:
    """One lead or approved patch: geometry in EPSG:4326, area in m2 from the projected frame."""

    geom: BaseGeometry
    area_m2: float
    attrs: dict[str, Any]


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _int(value: Any) -> int | None:
    f = _num(value)
    return None if f is None else int(f)


def _list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        import json

        return list(json.loads(value)) if value.strip() else []
    return list(jsonable(list(value)))


def frame_rows(frame: gpd.GeoDataFrame | None, what: str) -> list[PatchRow]:
    """Rows of a leads/approved frame (ARCHITECTURE.md "Patch / lead columns").

    Raises ``ValueError`` with a one-line reason when the frame cannot be stored.
    """
    if frame is None or len(frame) == 0:
        return []
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        raise ValueError(f"{what} is not a GeoDataFrame with a geometry column")
    if frame.crs is None:
        raise ValueError(f"{what} has no CRS")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if len(frame) == 0:
        return []
    projected = frame.crs.is_projected
    stored = to_storage(frame)
    if projected:
        areas = frame.geometry.area.to_numpy()
    else:  # areas in m2 need metres: measure in the frame's UTM zone
        areas = stored.to_crs(stored.estimate_utm_crs()).area.to_numpy()
    rows = []
    for (idx, rec), geom, measured in zip(frame.iterrows(), stored.values, areas):
        given = _num(rec.get("area_m2"))
        area = given if given is not None else float(measured)
        if area < 0:
            raise ValueError(f"{what} row {idx} has a negative area")
        centroid = geom.representative_point() if geom.geom_type.startswith("Multi") else geom.centroid
        lon, lat = _num(rec.get("centroid_lon")), _num(rec.get("centroid_lat"))
        if lon is None or lat is None:
            lon, lat = centroid.x, centroid.y
        cls = rec.get("change_class")
        attrs = {
            "change_class": None if cls is None or (isinstance(cls, float) and math.isnan(cls)) else str(cls),
            "score_mean": _num(rec.get("score_mean")),
            "score_max": _num(rec.get("score_max")),
            "centroid_lon": float(lon), "centroid_lat": float(lat),
            "zone_level": _int(rec.get("zone_level")),
            "zones": _list(rec.get("zones")),
            "approvals": _list(rec.get("approvals")),
            "approved_share": _num(rec.get("approved_share")) or 0.0,
            "unapproved_area_m2": _num(rec.get("unapproved_area_m2")),
            "priority": _int(rec.get("priority")),
            "priority_score": _num(rec.get("priority_score")),
        }
        rows.append(PatchRow(geom=geom, area_m2=area, attrs=attrs))
    return rows


def _merge_keyed(lists: list[list[Any]], key: str) -> list[Any]:
    merged: dict[Any, dict[str, Any]] = {}
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                continue
            k = item.get(key)
            if k in merged:
                merged[k]["area_m2"] = (_num(merged[k].get("area_m2")) or 0.0) + (_num(item.get("area_m2")) or 0.0)
            else:
                merged[k] = dict(item)
    return list(merged.values())


def merge_rows(rows: list[PatchRow]) -> PatchRow:
    """Several patches of one run that fall on the same lead, as one sighting."""
    if len(rows) == 1:
        return rows[0]
    area = sum(r.area_m2 for r in rows)
    largest = max(rows, key=lambda r: r.area_m2)
    geom = shapely.union_all([r.geom for r in rows])
    means = [(r.attrs["score_mean"], r.area_m2) for r in rows if r.attrs["score_mean"] is not None]
    levels = [r.attrs["zone_level"] for r in rows if r.attrs["zone_level"] is not None]
    prios = [r.attrs["priority"] for r in rows if r.attrs["priority"] is not None]
    maxes = [r.attrs["score_max"] for r in rows if r.attrs["score_max"] is not None]
    pscores = [r.attrs["priority_score"] for r in rows if r.attrs["priority_score"] is not None]
    unapproved = [r.attrs["unapproved_area_m2"] for r in rows if r.attrs["unapproved_area_m2"] is not None]
    attrs = dict(largest.attrs)
    c = geom.centroid
    attrs.update(
        centroid_lon=c.x, centroid_lat=c.y,
        score_mean=(float(np.average([m for m, _ in means], weights=[max(w, 1e-9) for _, w in means]))
                    if means else None),
        score_max=max(maxes) if maxes else None,
        zone_level=min(levels) if levels else None,
        priority=min(prios) if prios else None,
        priority_score=max(pscores) if pscores else None,
        zones=_merge_keyed([r.attrs["zones"] for r in rows], "zone_id"),
        approvals=_merge_keyed([r.attrs["approvals"] for r in rows], "approval_no"),
        unapproved_area_m2=sum(unapproved) if unapproved else None,
        approved_share=(1.0 - sum(unapproved) / area) if unapproved and area > 0
        else largest.attrs["approved_share"],
    )
    return PatchRow(geom=geom, area_m2=area, attrs=attrs)


def area_fields(area_m2: float) -> dict[str, float]:
    return {"area_m2": float(area_m2), "area_mu": m2_to_mu(float(area_m2))}
