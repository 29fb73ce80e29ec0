"""Patrol coverage: how much of each responsibility zone lies near the period's patrol routes.

Routes are buffered by a distance (default 500 m, what a patrol can see from the road) and
overlaid on the zones in a metric CRS (the UTM zone of the zones), with geopandas.
"""
from __future__ import annotations

from typing import Any

DEFAULT_DISTANCE_M = 500.0


def zone_coverage(zones: list[dict[str, Any]], routes: list[Any],
                  distance_m: float = DEFAULT_DISTANCE_M) -> list[dict[str, Any]]:
    """Per zone: ``area_m2``, ``covered_m2`` (within ``distance_m`` of a route) and ``share``."""
    import geopandas as gpd
    import shapely

    if not zones:
        return []
    frame = gpd.GeoDataFrame({"code": [z["code"] for z in zones]},
                             geometry=[z["geometry"] for z in zones], crs=4326)
    metric = frame.estimate_utm_crs()
    frame = frame.to_crs(metric)
    lines = [r for r in routes if r is not None and not r.is_empty]
    if lines:
        reach = gpd.GeoSeries(lines, crs=4326).to_crs(metric).buffer(distance_m)
        seen = shapely.union_all(reach.values)
    else:
        seen = None
    out = []
    for code, geom in zip(frame["code"], frame.geometry):
        area = float(geom.area)
        covered = float(geom.intersection(seen).area) if seen is not None else 0.0
        out.append({"code": code, "area_m2": area, "covered_m2": covered,
                    "share": None if area <= 0 else covered / area})
    return out
