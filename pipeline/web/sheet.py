"""Today's patrol sheet of a team (responsibility zone): open targets in a short route, and
the route as GPX and KML for field GPS units."""
from __future__ import annotations

import re
from typing import Any

import gpxpy.gpx
import simplekml
from pyproj import Geod

GEOD = Geod(ellps="WGS84")


def leg(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(metres, bearing in degrees from north) from (lon, lat) ``a`` to ``b`` on the WGS84 ellipsoid."""
    fwd, _, dist = GEOD.inv(a[0], a[1], b[0], b[1])
    return float(dist), float(fwd) % 360.0


def _at(t: dict[str, Any]) -> tuple[float, float]:
    return float(t["centroid_lon"]), float(t["centroid_lat"])


def order_route(targets: list[dict[str, Any]], start: tuple[float, float] | None = None) -> list[dict[str, Any]]:
    """Targets in visiting order: from ``start`` (else the most urgent: lowest priority, then
    code) always the nearest one not yet visited. Each gets ``leg_m`` and ``bearing``, the
    ellipsoidal distance and direction from the one before (from ``start`` for the first)."""
    rest = sorted(targets, key=lambda t: (t.get("priority") or 9, t["code"]))
    route: list[dict[str, Any]] = []
    here = start
    while rest:
        if here is None:
            nxt, (dist, bearing) = rest.pop(0), (0.0, 0.0)
        else:
            at = here
            nxt = rest.pop(min(range(len(rest)), key=lambda k: leg(at, _at(rest[k]))[0]))
            dist, bearing = leg(at, _at(nxt))
        route.append(dict(nxt, leg_m=dist, bearing=bearing))
        here = _at(nxt)
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
