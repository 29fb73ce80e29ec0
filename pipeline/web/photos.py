"""Field photos: the time, position and direction their camera wrote (EXIF, read with Pillow),
and a flag when a photo was taken far from its lead. The file is kept byte for byte, so its
EXIF travels with it into the case file."""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image
from pyproj import Geod
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from pipeline.web.field import CHINA

GEOD = Geod(ellps="WGS84")
FAR_FROM_LEAD_M = 200.0  # a photo taken further than this from the lead's outline is flagged


def _ratio(value: Any) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _degrees(dms: Any, ref: str) -> float:
    d, m, s = (_ratio(v) for v in dms)
    out = d + m / 60 + s / 3600
    return -out if ref in ("S", "W") else out


def exif_of(data: bytes) -> dict[str, Any]:
    """``taken_at`` (aware, China time when the camera gave no offset), ``lon``, ``lat`` and
    ``direction`` (degrees from north) as far as the photo's EXIF has them."""
    out: dict[str, Any] = {}
    try:
        exif = Image.open(io.BytesIO(data)).getexif()
    except (OSError, ValueError, SyntaxError):
        return out
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    stamp = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if stamp:
        try:
            out["taken_at"] = datetime.strptime(str(stamp).strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=CHINA)
        except ValueError:
            pass
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        if 2 in gps and 4 in gps:
            out["lat"] = _degrees(gps[2], str(gps.get(1, "N")))
            out["lon"] = _degrees(gps[4], str(gps.get(3, "E")))
        if 17 in gps:
            out["direction"] = _ratio(gps[17])
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        pass
    return out


def distance_to(geom: BaseGeometry, lon: float, lat: float) -> float:
    """Metres from (lon, lat) to the nearest point of ``geom`` (0 inside), on the ellipsoid."""
    here = Point(lon, lat)
    if geom.contains(here):
        return 0.0
    from shapely.ops import nearest_points

    near = nearest_points(geom, here)[0]
    return float(GEOD.inv(lon, lat, near.x, near.y)[2])


def photo_notes(photos: list[dict[str, Any]], lead_geom: BaseGeometry) -> list[dict[str, Any]]:
    """The lead's photos with ``distance_m``, ``far`` and the EXIF ``direction`` for the page."""
    out = []
    for a in photos:
        a = dict(a)
        if a.get("lon") is not None and a.get("lat") is not None:
            a["distance_m"] = distance_to(lead_geom, float(a["lon"]), float(a["lat"]))
            a["far"] = a["distance_m"] > FAR_FROM_LEAD_M
        a["direction"] = a.get("bearing")
        out.append(a)
    return out
