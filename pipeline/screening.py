"""Changed patches -> patrol leads: keep what lies in protected zones, subtract approved land.

Pure (no I/O). Geometry work is vectorised: ``gpd.sjoin`` (spatial index) finds patch/zone and
patch/approval pairs, ``shapely.intersection`` measures the area of each pair at once.

Rules, in order, for each patch:

1. A patch whose interior meets no zone is dropped (touching a zone border is not enough).
   A patch that does is cut to the zones it overlaps: the lead is the part inside protected
   land (``patch_area_m2`` keeps the whole patch's area), and a cut-off part smaller than the
   minimum mapping unit (a patch grazing a zone edge) is dropped as digitising noise.
2. ``approved_share`` is the share of the patch covered by the *union* of the approvals it
   meets (overlapping approvals are not counted twice); ``unapproved_area_m2`` is the rest.
3. A patch goes to ``approved`` (recorded, not a lead) when it is wholly approved
   (``approved_share >= 0.999`` or less than 1 m2 unapproved: ``reason = "wholly_approved"``),
   or when it is partly approved and the unapproved remainder is below the minimum mapping
   unit (``reason = "remainder_below_mmu"``): such a remainder is within digitising error of
   the approval's edge and too small to send a field team to on its own.
4. Every other patch is a lead (``reason = "unapproved"`` or ``"partly_approved"``);
   ``exceeds_mmu`` says whether its unapproved area alone reaches ``min_area_m2``.
5. An approval dated after the change (``approved_on`` later than ``change_date``, the date
   the change was seen) does not legalise it: it covers nothing in rule 2, is listed with
   ``after_change: true``, and a lead it would have covered says so (先建后批:
   ``approved_after_change``, ``reason = "approved_after_change"`` when no earlier approval
   covers it).

Areas are measured on the patch geometry in the patch CRS (projected, metres).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.classes import MU_M2, ChangeClass

__all__ = ["Screening", "screen_patches", "priority", "PriorityWeights", "DEFAULT_MIN_AREA_M2"]

#: Default minimum mapping unit for the unapproved remainder (m2); callers pass the run's MMU.
DEFAULT_MIN_AREA_M2 = 400.0
WHOLLY_APPROVED_SHARE = 0.999
WHOLLY_APPROVED_REMAINDER_M2 = 1.0
_MIN_PIECE_M2 = 0.01          # intersections smaller than this are boundary contact, not overlap
LEAD_EXTRA_COLUMNS = ("zones", "zone_level", "zone_types", "approvals", "approved_share",
                      "unapproved_area_m2", "exceeds_mmu", "reason", "approved_after_change",
                      "priority_score", "priority")
_Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
_KEYS = MappingProxyType({"zone": ["zone_id", "zone_type", "level", "unit", "name"],
                          "approval": ["approval_no", "approved_use", "approved_on"]})


@dataclass(frozen=True)
class Screening:
    """``leads``: sorted by ``priority_score`` desc. ``approved``: in-zone patches excused by approvals."""

    leads: gpd.GeoDataFrame
    approved: gpd.GeoDataFrame


def screen_patches(patches: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                   approvals: gpd.GeoDataFrame | None = None,
                   min_area_m2: float = DEFAULT_MIN_AREA_M2,
                   weights: PriorityWeights | None = None,
                   change_date: date | None = None) -> Screening:
    """Screen ``patches`` (projected CRS) against ``zones`` and optional ``approvals`` (any CRS).

    ``patches`` has the ``PATCH_COLUMNS`` (docs/ARCHITECTURE.md); ``zones`` / ``approvals`` the
    standard columns of :func:`pipeline.zones.load_zones` / ``load_approvals``. ``min_area_m2``
    is the run's minimum mapping unit (rule 3 above); ``weights`` tune :func:`priority`;
    ``change_date`` (the after tile's date) makes later approvals not count (rule 5).
    """
    if patches.crs is None or not patches.crs.is_projected:
        raise ValueError("patches must be in a projected CRS (metres) to measure areas")
    base = patches.reset_index(drop=True)
    area = np.asarray(base.geometry.area, dtype=float)
    zones = _to(zones, base.crs)
    zone_pairs = _pairs(base, zones)
    zone_lists = _pieces(base, zones, zone_pairs, "zone")
    base, area = _clip_to_zones(base, area, zone_pairs)
    in_zone = np.flatnonzero([bool(z) and a >= min(min_area_m2, pa) - 1e-6
                              for z, a, pa in zip(zone_lists, area, base["patch_area_m2"])])
    base, area = base.iloc[in_zone].reset_index(drop=True), area[in_zone]
    zone_lists = [zone_lists[i] for i in in_zone]
    if approvals is not None and len(approvals) and len(base):
        appr = _to(approvals, base.crs).reset_index(drop=True)
        late = _late(appr, change_date)
        pairs = _pairs(base, appr)
        timely = tuple(x[~late[pairs[1]]] for x in pairs)
        appr_lists, covered = _pieces(base, appr, pairs, "approval"), _union_area(len(base), timely)
    else:
        appr_lists, covered = [[] for _ in range(len(base))], np.zeros(len(base))
    for items, a in zip(appr_lists, area):
        for item in items:
            item["share"] = round(float(item["area_m2"] / a), 6) if a > 0 else 0.0
            if change_date is not None:
                item["after_change"] = _is_late(item.get("approved_on"), change_date)
    after_change = np.array([any(i.get("after_change") for i in x) for x in appr_lists], dtype=bool)
    appr_lists_timely = [[i for i in x if not i.get("after_change")] for x in appr_lists]
    share = np.clip(np.divide(covered, area, out=np.zeros_like(area), where=area > 0), 0.0, 1.0)
    unapproved = np.maximum(area - covered, 0.0)
    has_appr = np.array([bool(x) for x in appr_lists_timely], dtype=bool)
    wholly = has_appr & ((share >= WHOLLY_APPROVED_SHARE) | (unapproved < WHOLLY_APPROVED_REMAINDER_M2))
    small = has_appr & ~wholly & (unapproved < min_area_m2)
    reason = np.where(wholly, "wholly_approved", np.where(small, "remainder_below_mmu",
                      np.where(has_appr, "partly_approved",
                               np.where(after_change, "approved_after_change", "unapproved"))))
    out = base.assign(zones=pd.Series(zone_lists, dtype=object),
                      zone_level=np.array([z[0]["level"] for z in zone_lists], dtype=np.int64),
                      zone_types=[",".join(dict.fromkeys(z["zone_type"] for z in zl)) for zl in zone_lists],
                      approvals=pd.Series(appr_lists, dtype=object),
                      approved_share=share, unapproved_area_m2=unapproved,
                      exceeds_mmu=unapproved >= min_area_m2, reason=reason,
                      approved_after_change=after_change)
    is_lead = ~(wholly | small)
    leads = out.loc[is_lead].reset_index(drop=True)
    scored = priority(leads, weights or PriorityWeights())
    leads = leads.assign(priority_score=scored["priority_score"].to_numpy(),
                         priority=scored["priority"].to_numpy())
    leads = leads.sort_values(["priority_score", "unapproved_area_m2", "patch_id"],
                              ascending=[False, False, True], kind="stable").reset_index(drop=True)
    approved = out.loc[~is_lead].reset_index(drop=True)
    return Screening(leads=_geo(leads, base.crs), approved=_geo(approved, base.crs))


def _clip_to_zones(base: gpd.GeoDataFrame, area: np.ndarray,
                   pairs: _Pairs) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Each patch cut to the zones it overlaps: a lead is the part a patrol must check.

    ``patch_area_m2`` keeps the whole patch's area; ``area_m2``/``area_mu`` and the centroid
    become those of the part inside the zones. Patches meeting no zone keep their geometry
    (they are dropped by the caller).
    """
    p, _, inter = pairs
    geoms = np.array(base.geometry.values, dtype=object)
    if len(p):
        order = np.argsort(p, kind="stable")
        ids, starts = np.unique(p[order], return_index=True)
        for i, chunk in zip(ids, np.split(np.asarray(inter, dtype=object)[order], starts[1:])):
            geoms[i] = shapely.union_all(list(chunk)) if len(chunk) > 1 else chunk[0]
    clipped = gpd.GeoSeries(geoms, crs=base.crs)
    inside = np.asarray(clipped.area, dtype=float)
    point = clipped.centroid
    outside = ~shapely.contains(clipped.values, point.values) & ~clipped.is_empty.to_numpy()
    point[outside] = clipped[outside].representative_point()
    lonlat = point.to_crs(4326)
    out = base.assign(patch_area_m2=area, area_m2=inside, area_mu=inside / MU_M2,
                      centroid_lon=lonlat.x.to_numpy(), centroid_lat=lonlat.y.to_numpy())
    out = out.set_geometry(clipped.values)
    return _geo(out, base.crs), inside


def _late(approvals: gpd.GeoDataFrame, change_date: date | None) -> np.ndarray:
    """Per approval: dated after ``change_date`` (an approval without a date is not late)."""
    if change_date is None or "approved_on" not in approvals.columns:
        return np.zeros(len(approvals), dtype=bool)
    return np.array([_is_late(on, change_date) for on in approvals["approved_on"]], dtype=bool)


def _is_late(on: Any, change_date: date) -> bool:
    return on is not None and not pd.isna(on) and str(on)[:10] > change_date.isoformat()


def _to(frame: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("zones/approvals frame has no CRS")
    return frame if frame.crs == crs else frame.to_crs(crs)


def _geo(frame: pd.DataFrame, crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)


def _pairs(base: gpd.GeoDataFrame, other: gpd.GeoDataFrame) -> _Pairs:
    """(patch row, other row, intersection geometry) for every pair whose interiors overlap."""
    if len(base) == 0 or len(other) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object)
    left = gpd.GeoDataFrame({"_p": np.arange(len(base))}, geometry=base.geometry.values, crs=base.crs)
    right = gpd.GeoDataFrame({"_o": np.arange(len(other))}, geometry=other.geometry.values, crs=other.crs)
    joined = gpd.sjoin(left, right, how="inner", predicate="intersects")
    p, o = joined["_p"].to_numpy(), joined["_o"].to_numpy()
    inter = shapely.intersection(base.geometry.values[p], other.geometry.values[o])
    keep = shapely.area(inter) >= _MIN_PIECE_M2
    return p[keep], o[keep], np.asarray(inter)[keep]


def _pieces(base: gpd.GeoDataFrame, other: gpd.GeoDataFrame, pairs: _Pairs,
            kind: str) -> list[list[dict[str, Any]]]:
    """Per patch, one dict per zone/approval it overlaps with the overlapping ``area_m2``.

    Features sharing every attribute (a zone stored as several polygons) are merged, their
    overlap areas from the union so that overlapping parts count once.
    """
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(base))]
    p, o, inter = pairs
    if len(p) == 0:
        return out
    keys = _KEYS[kind]
    other = other.assign(**{k: None for k in keys if k not in other.columns})   # optional ones
    attrs = other[keys].reset_index(drop=True).iloc[o].reset_index(drop=True)
    pieces = gpd.GeoDataFrame(attrs.assign(_p=p), geometry=inter, crs=base.crs)
    group = ["_p", *keys]
    if pieces.duplicated(group).any():
        pieces = pieces.dissolve(by=group, dropna=False).reset_index()
    pieces["area_m2"] = pieces.geometry.area.round(3)
    pieces[keys] = pieces[keys].astype(object).where(pieces[keys].notna(), None)
    if kind == "zone":
        pieces = pieces.sort_values(["_p", "level", "area_m2"], ascending=[True, True, False])
    else:
        pieces = pieces.sort_values(["_p", "area_m2"], ascending=[True, False])
    for rec in pieces.drop(columns="geometry").to_dict("records"):
        row = rec.pop("_p")
        if kind == "zone":
            rec["level"] = int(rec["level"])
        else:
            on = rec["approved_on"]
            rec["approved_on"] = on.isoformat()[:10] if hasattr(on, "isoformat") else on
        out[int(row)].append(rec)
    return out


def _union_area(n: int, pairs: _Pairs) -> np.ndarray:
    """Area of each of ``n`` patches covered by the union of its approvals (overlaps count once)."""
    covered = np.zeros(n)
    p, _, inter = pairs
    counts = np.bincount(p, minlength=n)
    single = counts[p] == 1
    covered[p[single]] = shapely.area(inter[single])
    multi = np.flatnonzero(~single)
    order = multi[np.argsort(p[multi], kind="stable")]
    for group in np.split(order, np.flatnonzero(np.diff(p[order])) + 1) if len(order) else []:
        covered[p[group[0]]] = shapely.union_all(inter[group]).area
    return covered


# --- priority ------------------------------------------------------------------------------

#: Zone-level factor (1 strictest) and zone-type factor; a lead's zone term is the largest
#: ``LEVEL_FACTOR[level] * TYPE_FACTOR[type]`` over the zones it touches.
LEVEL_FACTOR = MappingProxyType({1: 1.0, 2: 0.6, 3: 0.3})
TYPE_FACTOR = MappingProxyType({
    "permanent_basic_farmland": 1.0, "ecological_redline": 1.0, "nature_reserve": 1.0,
    "mining_prohibited": 1.0, "general_farmland": 0.7, "road_corridor": 0.4,
    "urban_planning": 0.3, "other": 0.3,
})
#: Change-class factor: building and digging/levelling are what farmland protection is about.
CLASS_FACTOR = MappingProxyType({
    ChangeClass.CONSTRUCTION.key: 1.0, ChangeClass.BARE_SOIL.key: 0.9, ChangeClass.WATER.key: 0.6,
    ChangeClass.VEGETATION_LOSS.key: 0.5, ChangeClass.OTHER.key: 0.3, ChangeClass.NONE.key: 0.0,
})


@dataclass(frozen=True)
class PriorityWeights:
    """Weights of the four priority terms and the score bands of ``priority`` 1..3 (else 4).

    With the defaults (summing to 100) each weight is the most points its term can add.
    """

    zone: float = 40.0
    area: float = 25.0
    score: float = 15.0
    change_class: float = 20.0
    area_full_mu: float = 30.0                          # unapproved area giving the full area term
    bands: tuple[float, float, float] = (70.0, 50.0, 30.0)   # score >= bands[i] -> priority i+1


def priority(leads: pd.DataFrame, weights: PriorityWeights | None = None) -> pd.DataFrame:
    """Priority of each lead: ``priority_score`` 0..100 and ``priority`` 1 (most urgent) .. 4.

    ``priority_score = 100 * (wz*Z + wa*A + ws*S + wc*C) / (wz + wa + ws + wc)`` with terms in 0..1:

    * Z, zone: max over touched zones of ``LEVEL_FACTOR[level] * TYPE_FACTOR[zone_type]``
      (level 1/2/3 -> 1.0/0.6/0.3; permanent basic farmland, ecological redline, nature reserve,
      mining-prohibited -> 1.0, general farmland 0.7, road corridor 0.4, urban planning/other 0.3);
    * A, area: ``log(1 + mu) / log(1 + area_full_mu)`` of the unapproved area in mu, capped at 1
      (1 mu -> 0.20, 5 mu -> 0.52, 30 mu -> 1), so size matters but does not swamp the zone;
    * S, score: the patch's ``score_mean`` clipped to 0..1 (detector confidence);
    * C, class: ``CLASS_FACTOR[change_class]`` (construction 1.0, bare soil 0.9, water 0.6,
      vegetation loss 0.5, other 0.3).

    ``priority`` is 1 when the score >= ``bands[0]`` (70), 2 when >= ``bands[1]`` (50), 3 when
    >= ``bands[2]`` (30), else 4. The returned frame also holds the terms (``zone_term``,
    ``area_term``, ``score_term``, ``class_term``) so an analyst can see why a lead ranks where
    it does. ``leads`` needs ``zones``, ``unapproved_area_m2``, ``score_mean``, ``change_class``.
    """
    w = weights or PriorityWeights()
    zone = np.array([max((LEVEL_FACTOR.get(int(z["level"]), 0.0) * TYPE_FACTOR.get(z["zone_type"], 0.3)
                          for z in zl), default=0.0) for zl in leads["zones"]], dtype=float)
    mu = np.maximum(_mu(leads["unapproved_area_m2"].to_numpy()), 0.0)
    area = np.minimum(np.log1p(mu) / np.log1p(w.area_full_mu), 1.0)
    score = np.clip(np.nan_to_num(leads["score_mean"].to_numpy(dtype=float)), 0.0, 1.0)
    cls = np.array([CLASS_FACTOR.get(_class_key(c), 0.3) for c in leads["change_class"]], dtype=float)
    total = w.zone + w.area + w.score + w.change_class
    value = 100.0 * (w.zone * zone + w.area * area + w.score * score + w.change_class * cls) / total
    value = np.round(value, 2)
    band = 4 - sum((value >= edge).astype(np.int64) for edge in w.bands)  # bands descending
    return pd.DataFrame({"priority_score": value, "priority": band.astype(np.int64), "zone_term": zone,
                         "area_term": area, "score_term": score, "class_term": cls}, index=leads.index)


def _class_key(value: Any) -> str:
    """``ChangeClass.key`` of a key string, a ChangeClass or its integer code."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ChangeClass(int(value)).key if int(value) in ChangeClass._value2member_map_ else ""
    return str(value).lower()


def _mu(area_m2: np.ndarray) -> np.ndarray:
    return np.asarray(area_m2, dtype=float) / MU_M2
