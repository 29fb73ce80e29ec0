"""A STAC Item per run folder (``item.json``): what the run compared and every file it left.

The Item's footprint is the pair grid in lon/lat, its time the span between the two tiles
(``start_datetime`` = before, ``end_datetime`` = after, ``datetime`` = after), and its
properties the detector, cut and counts from ``run.json``; the projection extension gives the
grid (``proj:code``, ``proj:shape``, ``proj:transform``). Each file of the folder is an asset
with a media type and roles; hrefs are relative to the folder, so the folder can be moved or
served as it is (a STAC browser or ``pystac.Item.from_file`` opens it).
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

ITEM_FILE = "item.json"
PROJ_EXT = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"

#: file -> (media type, roles, title)
ASSETS: dict[str, tuple[str, list[str], str]] = {
    "leads.gpkg": ("application/geopackage+sqlite3", ["data"], "leads (EPSG:4326, QGIS styles)"),
    "leads.csv": ("text/csv", ["data", "metadata"], "leads table (UTF-8 with BOM)"),
    "leads.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   ["data", "metadata"], "leads table (Excel)"),
    "approved.gpkg": ("application/geopackage+sqlite3", ["data"], "changes covered by approvals"),
    "score.tif": ("image/tiff; application=geotiff; profile=cloud-optimized", ["data"],
                  "change score 0..1 (COG, uint8 steps of 1/250 with the band's scale; 255 not valid)"),
    "change_class.tif": ("image/tiff; application=geotiff; profile=cloud-optimized", ["data"],
                         "change class (COG with colour table and category names)"),
    "change_class.tif.aux.xml": ("application/xml", ["metadata"], "category names (GDAL PAM)"),
    "quicklook.png": ("image/png", ["overview"], "before | after with leads outlined"),
    "overlay_before.png": ("image/png", ["visual"], "before, EPSG:3857 web overlay"),
    "overlay_after.png": ("image/png", ["visual"], "after, EPSG:3857 web overlay"),
    "overlay.json": ("application/json", ["metadata"], "web overlay bounds"),
    "run.json": ("application/json", ["metadata"], "run report"),
}


def _instant(day: Any) -> datetime:
    d = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return datetime.combine(d, time(0), tzinfo=UTC)


def run_item(folder: Path, item_id: str | None = None) -> Any:
    """The :class:`pystac.Item` of the run folder ``folder`` (read from its ``run.json``)."""
    import pystac
    from affine import Affine
    from rasterio.warp import transform_geom
    from shapely.geometry import box, mapping, shape

    doc = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    grid = doc["grid"]
    transform = Affine(*grid["transform"][:6])
    x0, y0 = transform @ (0, 0)
    x1, y1 = transform @ (grid["width"], grid["height"])
    footprint = box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    geometry = transform_geom(grid["crs"], "EPSG:4326", mapping(footprint))
    before, after = _instant(doc["before"]["date"]), _instant(doc["after"]["date"])
    props: dict[str, Any] = {
        "start_datetime": before.isoformat().replace("+00:00", "Z"),
        "end_datetime": after.isoformat().replace("+00:00", "Z"),
        "title": f"{doc['before']['date']} → {doc['after']['date']}",
        "landpatrol:detector": f"{doc['detector']['name']} {doc['detector']['version']}",
        "landpatrol:threshold": doc.get("parameters", {}).get("threshold"),
        "landpatrol:leads": doc.get("leads"),
        "landpatrol:approved": doc.get("approved"),
        "landpatrol:pair_key": doc.get("pair_key"),
        "proj:shape": [grid["height"], grid["width"]],
        "proj:transform": list(grid["transform"][:6]),
    }
    crs = str(grid["crs"])
    if crs.upper().startswith("EPSG:"):
        props["proj:code"] = crs.upper()
    else:
        from rasterio.crs import CRS

        props["proj:code"], props["proj:wkt2"] = None, CRS.from_user_input(crs).to_wkt()
    item = pystac.Item(id=item_id or folder.name, geometry=geometry,
                       bbox=list(shape(geometry).bounds), datetime=after, properties=props,
                       stac_extensions=[PROJ_EXT])
    for name, (media, roles, title) in ASSETS.items():
        if (folder / name).is_file():
            item.add_asset(name.replace(".", "_"), pystac.Asset(href=f"./{name}", media_type=media,
                                                                roles=roles, title=title))
    chips = sorted((folder / "chips").glob("*.png")) if (folder / "chips").is_dir() else []
    for chip in chips:
        item.add_asset(f"chip_{chip.stem}", pystac.Asset(
            href=f"./chips/{chip.name}", media_type="image/png", roles=["thumbnail"],
            title=f"before | after, {chip.stem}"))
    return item


def write_run_item(folder: Path, item_id: str | None = None) -> Path:
    """Write ``item.json`` into the run folder; returns its path."""
    item = run_item(folder, item_id)
    path = folder / ITEM_FILE
    doc = item.to_dict(include_self_link=False, transform_hrefs=False)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
