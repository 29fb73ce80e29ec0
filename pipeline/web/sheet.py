"""Today's patrol sheet of a team (responsibility zone): open targets in a short route, and
the route as GPX and KML for field GPS units."""
from __future__ import annotations

import math
import re
from typing import Any

import gpxpy.gpx
import simplekml


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lon, lat) points (haversine, metres)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(h))


def order_route(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Targets in visiting order: start at the most urgent (lowest priority, then code), then
    always the nearest one not yet visited. Each gets ``leg_m``, the distance from the one before."""
    if not targets:
        return []
    rest = sorted(targets, key=lambda t: (t.get("priority") or 9, t["code"]))
    route = [dict(rest.pop(0), leg_m=0.0)]
    while rest:
        here = (route[-1]["centroid_lon"], route[-1]["centroid_lat"])
        i = min(range(len(rest)), key=lambda k: _metres(here, (rest[k]["centroid_lon"], rest[k]["centroid_lat"])))
        nxt = rest.pop(i)
        route.append(dict(nxt, leg_m=_metres(here, (nxt["centroid_lon"], nxt["centroid_lat"]))))
    return route


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def one_line(value: Any) -> str:
    """Text with control characters (CR, LF, tab...) as single spaces: one line in any file."""
    return _CONTROL.sub(" ", str(value)).strip()


def attachment_header(name: str, suffix: str) -> str:
    """A ``Content-Disposition`` value that no file name can break: an ASCII ``filename`` of
    safe characters only, and the name itself percent-encoded in ``filename*`` (RFC 6266)."""
    from urllib.parse import quote

    plain = _UNSAFE_NAME.sub("_", one_line(name)).strip("._") or "route"
    return (f'attachment; filename="{plain}.{suffix}"; '
            f"filename*=UTF-8''{quote(one_line(name) + '.' + suffix, safe='')}")


def _label(t: dict[str, Any]) -> str:
    return one_line(f"{t['code']} {t.get('change_class') or ''} {float(t.get('area_mu') or 0):.2f}亩")


def to_gpx(route: list[dict[str, Any]], name: str) -> str:
    """Waypoints and a route through them, in visiting order (GPX 1.1)."""
    gpx = gpxpy.gpx.GPX()
    name = one_line(name)
    gpx.name = name
    rte = gpxpy.gpx.GPXRoute(name=name)
    for t in route:
        lat, lon = float(t["centroid_lat"]), float(t["centroid_lon"])
        gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(lat, lon, name=one_line(t["code"]), description=_label(t)))
        rte.points.append(gpxpy.gpx.GPXRoutePoint(lat, lon, name=one_line(t["code"])))
    gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")


def to_kml(route: list[dict[str, Any]], name: str) -> str:
    """Placemarks and the route line, in visiting order."""
    name = one_line(name)
    kml = simplekml.Kml(name=name)
    for t in route:
        kml.newpoint(name=one_line(t["code"]), description=_label(t),
                     coords=[(float(t["centroid_lon"]), float(t["centroid_lat"]))])
    if len(route) > 1:
        kml.newlinestring(name=name, coords=[(float(t["centroid_lon"]), float(t["centroid_lat"]))
                                             for t in route])
    return kml.kml()
