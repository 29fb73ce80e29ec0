"""Layer styles inside a GeoPackage, the way QGIS stores and picks them up.

QGIS keeps styles in a ``layer_styles`` table of the GeoPackage (one row per style, QML and
SLD text); a row with ``useAsDefault`` is applied when the layer is opened, the others are
listed under Layer Properties > Style. Two styles are written for a leads layer:

- ``priority`` (the default): filled outlines coloured by priority (1 red .. 4 blue) with the
  lead code as label, the colours of the web map and the chips;
- ``status``: coloured by lifecycle state (new .. closed).

Category labels are in ``lang`` (Chinese by default). The table is registered in
``gpkg_contents`` as an attributes table, as QGIS itself does.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

from pipeline.i18n import norm_lang, t

PRIORITY_COLOURS = {1: "#d7191c", 2: "#fd8d3c", 3: "#ffd84d", 4: "#2b83ba"}
STATUS_COLOURS = {"new": "#d7191c", "dispatched": "#fd8d3c", "verified": "#7b3294",
                  "stopped": "#7b3294", "reported": "#555555", "filed": "#555555",
                  "rectified": "#1a9641", "closed": "#999999"}

_TABLE = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def categories(field: str, lang: str | None) -> list[tuple[str, str, str]]:
    """(value, label, colour) of each category of the style on ``field``."""
    lang = norm_lang(lang)
    if field == "priority":
        return [(str(p), t(f"web.p{p}", lang), c) for p, c in PRIORITY_COLOURS.items()]
    return [(s, t(f"state.{s}", lang), c) for s, c in STATUS_COLOURS.items()]


def _rgb(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"


def qml(field: str, lang: str | None = None) -> str:
    """A QGIS QML document: categorised fill on ``field``, lead codes as labels."""
    cats, symbols = [], []
    for i, (value, label, colour) in enumerate(categories(field, lang)):
        cats.append(f'<category value={quoteattr(value)} symbol="{i}" label={quoteattr(label)} '
                    f'render="true"/>')
        symbols.append(
            f'<symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">'
            '<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
            f'<Option type="QString" name="color" value="{_rgb(colour, 70)}"/>'
            f'<Option type="QString" name="outline_color" value="{_rgb(colour)}"/>'
            '<Option type="QString" name="outline_style" value="solid"/>'
            '<Option type="QString" name="outline_width" value="0.6"/>'
            '<Option type="QString" name="outline_width_unit" value="MM"/>'
            '<Option type="QString" name="style" value="solid"/>'
            '</Option></layer></symbol>')
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.28.0" styleCategories="Symbology|Labeling">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
        'forceraster="0" enableorderby="0">'
        f'<categories>{"".join(cats)}</categories><symbols>{"".join(symbols)}</symbols>'
        '</renderer-v2>'
        '<labeling type="simple"><settings calloutType="simple">'
        '<text-style fieldName="code" fontSize="9" textColor="0,0,0,255" isExpression="0"/>'
        '<text-buffer bufferDraw="1" bufferSize="1" bufferColor="255,255,255,255"/>'
        '<placement placement="1"/></settings></labeling>'
        '</qgis>\n')


def sld(layer: str, field: str, lang: str | None = None) -> str:
    """The same categories as an OGC SLD 1.1 document (for GeoServer, ArcGIS, older QGIS)."""
    rules = []
    for value, label, colour in categories(field, lang):
        rules.append(
            f"<se:Rule><se:Name>{_xml(label)}</se:Name>"
            f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{_xml(field)}</ogc:PropertyName>"
            f"<ogc:Literal>{_xml(value)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
            "<se:PolygonSymbolizer><se:Fill>"
            f'<se:SvgParameter name="fill">{colour}</se:SvgParameter>'
            '<se:SvgParameter name="fill-opacity">0.27</se:SvgParameter></se:Fill><se:Stroke>'
            f'<se:SvgParameter name="stroke">{colour}</se:SvgParameter>'
            '<se:SvgParameter name="stroke-width">2</se:SvgParameter>'
            "</se:Stroke></se:PolygonSymbolizer></se:Rule>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" '
        'xmlns:ogc="http://www.opengis.net/ogc" xmlns:se="http://www.opengis.net/se" '
        'version="1.1.0">'
        f"<NamedLayer><se:Name>{_xml(layer)}</se:Name><UserStyle><se:Name>{_xml(field)}</se:Name>"
        f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
        "</StyledLayerDescriptor>\n")


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def add_layer_styles(gpkg: Path, layer: str, lang: str | None = None) -> None:
    """Write the priority (default) and status styles of ``layer`` into ``gpkg``."""
    con = sqlite3.connect(gpkg)
    try:
        with con:
            geom = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                               (layer,)).fetchone()
            con.execute(_TABLE)
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
            for field, default in (("priority", 1), ("status", 0)):
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                    "owner, ui) VALUES ('', '', ?, ?, ?, ?, ?, ?, ?, '', '')",
                    (layer, geom[0] if geom else "geom", field, qml(field, lang),
                     sld(layer, field, lang), default, t(f"col.{field}", lang)))
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                "strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
    finally:
        con.close()
