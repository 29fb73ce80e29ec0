"""One patch per change across the tiles of a date window: join, then screen once.

The pairs of a window (the same two dates, one pair per footprint: MGRS tiles ``50RPV``,
``50RQV``, possibly in two UTM zones) are analysed apart, each on its own grid. A change in
the overlap of two tiles is seen by both; a change cut by a tile's edge is seen in parts. Before
the window is recorded, :func:`join_window` turns them into one patch each (pure, no I/O):

1. Every tile's patches go to the window's CRS: Lambert azimuthal equal-area on the WGS84
   ellipsoid, centred on the window (to 0.1 degree), so areas in m2 and mu are ellipsoidal
   areas whichever UTM zone a part was measured in.
2. Parts from two tiles are one change when their interiors overlap by more than 1 % of the
   smaller (:data:`pipeline.ledger.matching.MIN_OVERLAP_SHARE`, the ledger's own "same place"),
   or when both reach their own tile's edge and meet there (within half a pixel: the seam
   between two UTM grids is not exact). Joins are transitive (connected components).
3. A joined change is the mosaic of its parts: the largest part whole, then of each further
   part only what lies outside the tiles already used (an overlap is counted once, as the tile
   that saw most of the change saw it); pieces that meet across a seam are closed by half a
   pixel. Pixels, mean score and class are weighted by what each part contributes; the
   change belongs to the pair of its largest part (its ``owner``, whose run records it). A
   tile delivered after its window was recorded comes after the recorded tiles and records
   only what it adds (a change it extends, as a sighting of the lead recorded before).
4. The joined patches are screened once against zones and approvals
   (:func:`pipeline.screening.screen_patches`) and handed back per owner pair.

A window of one pair is returned as its analysis had it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from pipeline.ledger.matching import MIN_OVERLAP_SHARE
from pipeline.pairs import Analysis, PairPlan
from pipeline.patches import PATCH_COLUMNS, patch_frame

Frames = tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]


@dataclass(frozen=True)
class Part:
    owner: int                 # index of the pair in the window
    patch_id: int
    geom: BaseGeometry         # in the window CRS
    pixels: int
    score_mean: float
    score_max: float
    change_class: str


def window_crs(plans: Sequence[PairPlan]) -> CRS:
    """The window's equal-area CRS: LAEA on WGS84 centred on its tiles (to 0.1 degree)."""
    lons, lats = [], []
    for plan in plans:
        to_wgs = Transformer.from_crs(plan.grid.crs, "EPSG:4326", always_xy=True)
        x0, y0, x1, y1 = to_wgs.transform_bounds(*plan.grid.bounds)
        lons += [x0, x1]
        lats += [y0, y1]
    lon = round((min(lons) + max(lons)) / 2, 1)
    lat = round((min(lats) + max(lats)) / 2, 1)
    return CRS.from_proj4(f"+proj=laea +lat_0={lat} +lon_0={lon} +x_0=0 +y_0=0 +ellps=WGS84 "
                          "+units=m +no_defs")


def footprint(plan: PairPlan, crs: CRS) -> BaseGeometry:
    """The pair's grid outline in ``crs`` (edges densified so they bend as they should)."""
    left, bottom, right, top = plan.grid.bounds
    edge = shapely.segmentize(shapely.box(left, bottom, right, top), max(plan.grid.res) * 8)
    return gpd.GeoSeries([edge], crs=plan.grid.crs).to_crs(crs).iloc[0]


def _parts(plans: Sequence[PairPlan], analyses: Sequence[Analysis], crs: CRS) -> list[Part]:
    out = []
    for i, analysis in enumerate(analyses):
        p = analysis.detection.patches
        if len(p) == 0:
            continue
        geoms = p.geometry.to_crs(crs).values
        for rec, geom in zip(p.itertuples(index=False), geoms):
            out.append(Part(i, int(rec.patch_id), shapely.make_valid(geom), int(rec.pixels),
                            float(rec.score_mean), float(rec.score_max), str(rec.change_class)))
    return out


def _joined(a: Part, b: Part, edges: Sequence[BaseGeometry], tol: float) -> bool:
    inter = shapely.intersection(a.geom, b.geom).area
    if inter > MIN_OVERLAP_SHARE * min(a.geom.area, b.geom.area):
        return True
    if a.geom.distance(edges[a.owner]) > tol or b.geom.distance(edges[b.owner]) > tol:
        return False
    contact = shapely.intersection(a.geom.buffer(tol), b.geom.buffer(tol))
    if contact.is_empty:
        return False
    return bool(contact.intersects(edges[a.owner].buffer(tol)) or contact.intersects(edges[b.owner].buffer(tol)))


def components(parts: Sequence[Part], footprints: Sequence[BaseGeometry], tol: float) -> list[list[int]]:
    """Groups of parts that are one change (indices into ``parts``), in order of first part."""
    n = len(parts)
    if n == 0:
        return []
    edges = [fp.boundary for fp in footprints]
    geoms = np.asarray([p.geom for p in parts], dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=tol)
    pairs = [(int(i), int(j)) for i, j in zip(left, right)
             if i < j and parts[i].owner != parts[j].owner and _joined(parts[i], parts[j], edges, tol)]
    rows = np.asarray([i for i, _ in pairs], np.int64)
    cols = np.asarray([j for _, j in pairs], np.int64)
    _, label = connected_components(coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n, n)),
                                    directed=False)
    groups: dict[int, list[int]] = {}
    for i, c in enumerate(label):
        groups.setdefault(int(c), []).append(i)
    return list(groups.values())


def mosaic(parts: Sequence[Part], footprints: Sequence[BaseGeometry], tol: float,
           recorded: Sequence[bool] = ()) -> dict[str, Any]:
    """One change from its parts (module docstring, step 3). Parts of pairs ``recorded`` before
    (a tile new to a recorded window) come first; the change then belongs to the new pair
    that adds most to it, or, adding nothing, stays with the recorded one (nothing to write)."""
    def done(p: Part) -> bool:
        return bool(recorded) and recorded[p.owner]

    order = sorted(parts, key=lambda p: (not done(p), -p.geom.area, p.owner, p.patch_id))
    pieces: list[BaseGeometry] = []
    used: list[BaseGeometry] = []
    weights: list[float] = []
    for part in order:
        piece = part.geom
        if used:
            piece = shapely.difference(piece, shapely.union_all(used))
        used.append(footprints[part.owner])
        share = piece.area / part.geom.area if part.geom.area > 0 else 0.0
        if share > 1e-6:
            pieces.append(piece)
        weights.append(part.pixels * share)
    geom = shapely.union_all(pieces)
    if len(order) > 1 and geom.geom_type == "MultiPolygon":  # parts meeting across a seam
        closed = geom.buffer(tol, join_style="mitre").buffer(-tol, join_style="mitre")
        if len(getattr(closed, "geoms", [closed])) < len(geom.geoms):
            geom = closed
    geom = shapely.make_valid(shapely.simplify(geom, 0))
    w = np.asarray(weights, float)
    classes: dict[str, float] = {}
    for part, wt in zip(order, w):
        classes[part.change_class] = classes.get(part.change_class, 0.0) + wt
    adding = [(wt, k) for k, (part, wt) in enumerate(zip(order, w)) if not done(part) and wt > 0]
    owner = order[max(adding)[1] if done(order[0]) and adding else 0]
    return {
        "owner": owner.owner, "patch_id": owner.patch_id, "geometry": geom,
        "pixels": int(round(w.sum())),
        "score_mean": float(np.average([p.score_mean for p in order], weights=np.maximum(w, 1e-12))),
        "score_max": max(p.score_max for p in order),
        "change_class": max(classes, key=lambda k: (classes[k], k)),
    }


def join_patches(plans: Sequence[PairPlan], analyses: Sequence[Analysis],
                 recorded: Sequence[bool] = ()) -> gpd.GeoDataFrame:
    """The window's patches, one per change (``PATCH_COLUMNS`` plus ``owner``), window CRS;
    ``recorded``: per pair, whether it was recorded before (see :func:`mosaic`)."""
    crs = window_crs(plans)
    footprints = [footprint(plan, crs) for plan in plans]
    tol = 0.5 * max(max(plan.grid.res) for plan in plans)
    parts = _parts(plans, analyses, crs)
    joined = [mosaic([parts[i] for i in group], footprints, tol, recorded)
              for group in components(parts, footprints, tol)]
    joined.sort(key=lambda r: (r["owner"], r["patch_id"]))
    frame = patch_frame([r["geometry"] for r in joined],
                        {k: [r[k] for r in joined] for k in ("pixels", "score_mean", "score_max",
                                                              "change_class")}, crs)
    frame["patch_id"] = np.asarray([r["patch_id"] for r in joined], np.int64)
    frame["owner"] = np.asarray([r["owner"] for r in joined], np.int64)
    return frame[[*PATCH_COLUMNS[:-1], "owner", "geometry"]]


def check_window(plans: Sequence[PairPlan]) -> None:
    """The tiles of one window come from one sensor and are different tiles (naming the file)."""
    from pipeline.errors import SensorError, TileError

    first = plans[0]
    seen: dict[str, Any] = {}
    for plan in plans:
        if plan.before.sensor != first.before.sensor or plan.after.sensor != first.after.sensor:
            raise SensorError(plan.after.path, f"is a {plan.after.sensor} tile, {first.after.path} "
                                               f"of the same date {first.after.sensor}: the tiles "
                                               "of a region's date must come from one sensor")
        for tile, digest in ((plan.before, plan.before_hash), (plan.after, plan.after_hash)):
            path = seen.setdefault(digest, tile.path)
            if path != tile.path:
                raise TileError(tile.path, f"is the same tile as {path} (the same content)")


def join_window(plans: Sequence[PairPlan], analyses: Sequence[Analysis],
                recorded: Sequence[bool] = ()) -> list[Frames]:
    """Per pair of the window, the leads and approved changes its run records (joined)."""
    if len(plans) == 1:
        return [(analyses[0].leads, analyses[0].approved)]
    from pipeline.screening import screen_patches

    patches = join_patches(plans, analyses, recorded)
    first = plans[0]
    mmu_m2 = first.params.mmu_pixels(first.grid.pixel_area) * first.grid.pixel_area
    screening = screen_patches(patches, first.zones, first.approvals, min_area_m2=mmu_m2,
                               change_date=first.after.acquired)
    out = []
    for i, plan in enumerate(plans):
        frames = []
        for frame in (screening.leads, screening.approved):
            mine = frame.loc[frame["owner"] == i].drop(columns="owner").reset_index(drop=True)
            mine["before_date"] = plan.before.acquired.isoformat()
            mine["after_date"] = plan.after.acquired.isoformat()
            mine["sensor"] = plan.before.sensor
            frames.append(gpd.GeoDataFrame(mine, geometry="geometry", crs=frame.crs))
        out.append((frames[0], frames[1]))
    return out

