"""The change-class raster as a Cloud Optimized GeoTIFF that GIS software shows as it should.

The pixel values are :class:`pipeline.classes.ChangeClass` (0 no change .. 5 other). The COG
carries a colour table (no change black), the band description, one ``CLASS_<n>`` tag per
class, and a GDAL PAM sidecar (``change_class.tif.aux.xml``) with the category names and a
raster attribute table (value, key, name), which ``gdalinfo``, QGIS and ArcGIS read. Names are
in ``lang`` (Chinese by default).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

from pipeline.classes import ChangeClass
from pipeline.i18n import norm_lang

CLASS_COLOURS: dict[ChangeClass, tuple[int, int, int, int]] = {
    ChangeClass.NONE: (0, 0, 0, 0),
    ChangeClass.BARE_SOIL: (166, 97, 26, 255),
    ChangeClass.CONSTRUCTION: (215, 25, 28, 255),
    ChangeClass.WATER: (43, 131, 186, 255),
    ChangeClass.VEGETATION_LOSS: (253, 174, 97, 255),
    ChangeClass.OTHER: (153, 112, 171, 255),
}


def class_names(lang: str | None = None) -> list[str]:
    """Category names indexed by pixel value."""
    zh = norm_lang(lang) == "zh"
    return [c.label_zh if zh else c.label_en for c in ChangeClass]


def write_class_cog(src: Path, dst: Path, lang: str | None = None) -> Path:
    """Copy the class raster ``src`` to ``dst`` as a styled COG (see the module docstring)."""
    import rasterio
    from rasterio.shutil import copy as rio_copy

    names = class_names(lang)
    with tempfile.TemporaryDirectory(prefix=".class-", dir=dst.parent) as tmp:
        styled = Path(tmp) / "styled.tif"
        shutil.copyfile(src, styled)
        with rasterio.open(styled, "r+") as ds:
            ds.write_colormap(1, {int(c): rgba for c, rgba in CLASS_COLOURS.items()})
            ds.set_band_description(1, "change class" if norm_lang(lang) == "en" else "变化类型")
            ds.update_tags(1, **{f"CLASS_{int(c)}": f"{c.key}: {names[int(c)]}" for c in ChangeClass})
        rio_copy(styled, dst, driver="COG", compress="DEFLATE", overview_resampling="NEAREST")
    aux = dst.with_name(dst.name + ".aux.xml")
    aux.write_bytes(_pam(names))
    return dst


def _pam(names: list[str]) -> bytes:
    """A GDAL PAM document for band 1: category names and a thematic attribute table."""
    root = ET.Element("PAMDataset")
    band = ET.SubElement(root, "PAMRasterBand", band="1")
    cats = ET.SubElement(band, "CategoryNames")
    for name in names:
        ET.SubElement(cats, "Category").text = name
    rat = ET.SubElement(band, "GDALRasterAttributeTable", tableType="thematic")
    for i, (fname, ftype, usage) in enumerate((("value", "0", "5"), ("key", "2", "0"),
                                               ("name", "2", "2"))):
        field = ET.SubElement(rat, "FieldDefn", index=str(i))
        ET.SubElement(field, "Name").text = fname
        ET.SubElement(field, "Type").text = ftype     # 0 integer, 2 string
        ET.SubElement(field, "Usage").text = usage    # 5 MinMax (the value), 0 generic, 2 Name
    for c in ChangeClass:
        row = ET.SubElement(rat, "Row", index=str(int(c)))
        for value in (str(int(c)), c.key, names[int(c)]):
            ET.SubElement(row, "F").text = value
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)
