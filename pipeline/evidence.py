"""Pictures a field team looks at first: a quicklook of the pair and a before/after chip per lead.

Inputs are true-colour arrays ``(rows, cols, 3)`` of float reflectance (nominally 0..1, NaN
where there is no data) for both dates on one grid, and the leads frame in that grid's CRS with
``code`` (else ``patch_id``), ``priority``, ``area_m2``, ``area_mu``, ``change_class`` and
geometry. The arrays may be decimated: pass the :class:`~pipeline.grid.Grid` they were decimated
from (its transform is rescaled to the array shape) or the arrays' own ``Affine`` transform.

Colours are stretched per band between the 2nd and 98th percentile of *both* dates together,
so the same ground looks the same on both sides. Outlines are coloured by priority (1 red,
2 orange, 3 yellow, 4 cyan). Captions are in ``lang`` (default: ``$LANDPATROL_LANG``, Chinese;
words from :mod:`pipeline.i18n`); Chinese asked for without a CJK font installed draws English
and warns once (:func:`drawing_lang`), never silently.
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from affine import Affine
from PIL import Image, ImageDraw, ImageFont

from pipeline.classes import ChangeClass
from pipeline.errors import ConfigError, OutputError
from pipeline.grid import Grid
from pipeline.i18n import norm_lang, t

PRIORITY_COLOURS: dict[int, tuple[int, int, int]] = {
    1: (255, 32, 32), 2: (255, 140, 0), 3: (255, 230, 0), 4: (0, 230, 255),
}
OTHER_COLOUR = (255, 255, 255)
# (path, face index): in the Noto CJK collection face 2 is Simplified Chinese (JP, KR, SC, ...)
CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
LATIN_FONTS = (("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),)
GAP = 8          # px between the before and after panels
HEADER = 22      # px of header above the panels
DateLike = date | str | None


# --- colour, geometry, fonts ----------------------------------------------------------------

def stretch_pair(
    before: np.ndarray, after: np.ndarray, low: float = 2.0, high: float = 98.0
) -> tuple[np.ndarray, np.ndarray]:
    """Both RGB arrays as uint8, stretched per band by percentiles shared by the two dates.

    NaN and infinite pixels become black; an all-NaN band maps to black."""
    if before.ndim != 3 or before.shape[2] != 3 or before.shape != after.shape:
        raise ConfigError(None, f"RGB arrays must both be (rows, cols, 3); got "
                                f"{before.shape} and {after.shape}")
    out_b = np.zeros(before.shape, np.uint8)
    out_a = np.zeros(after.shape, np.uint8)
    for band in range(3):
        values = np.concatenate([before[..., band].ravel(), after[..., band].ravel()])
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        lo, hi = np.percentile(values, [low, high])
        span = max(float(hi - lo), 1e-9)
        for src, dst in ((before, out_b), (after, out_a)):
            scaled = (src[..., band].astype(np.float32) - lo) / span
            dst[..., band] = np.nan_to_num(np.clip(scaled, 0, 1) * 255, nan=0.0).astype(np.uint8)
    return out_b, out_a


def array_transform(grid_or_transform: Grid | Affine, shape: tuple[int, ...]) -> Affine:
    """Map -> array transform: an ``Affine`` as given, a ``Grid`` rescaled to ``shape``."""
    if isinstance(grid_or_transform, Affine):
        return grid_or_transform
    rows, cols = shape[:2]
    g = grid_or_transform
    return g.transform @ Affine.scale(g.width / cols, g.height / rows)


def _rings(geom: Any, to_px: Affine) -> list[list[tuple[float, float]]]:
    """Exterior and interior rings of a (multi)polygon in output pixel coordinates."""
    rings = []
    for part in shapely.get_parts(geom):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        for ring in (part.exterior, *part.interiors):
            rings.append([to_px @ xy for xy in ring.coords])
    return rings


@lru_cache(maxsize=8)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """(font, is_cjk): a CJK font if one is installed, else DejaVu, else Pillow's default."""
    for (path, index), cjk in [(f, True) for f in CJK_FONTS] + [(f, False) for f in LATIN_FONTS]:
        if Path(path).exists():
            try:
                return ImageFont.truetype(path, size, index=index), cjk
            except OSError:  # unreadable font file or no such face: try the next one
                continue
    return ImageFont.load_default(size), False


def cjk_font_installed() -> bool:
    """Whether a font that draws Chinese is installed (see ``CJK_FONTS``)."""
    return _font(13)[1]


@lru_cache(maxsize=1)
def _warn_no_cjk() -> None:
    warnings.warn(t("pic.no_cjk_font"), UserWarning, stacklevel=3)


def drawing_lang(lang: str | None = None) -> str:
    """The language pictures are drawn in: ``lang`` (default ``$LANDPATROL_LANG``, else
    Chinese); English, with one warning per process, when Chinese is asked for and no CJK font
    is installed."""
    lang = norm_lang(lang)
    if lang == "zh" and not cjk_font_installed():
        _warn_no_cjk()
        return "en"
    return lang


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str,
          fill: tuple[int, int, int], size: int = 13) -> None:
    font, _ = _font(size)
    draw.text(xy, text, font=font, fill=fill, stroke_width=2, stroke_fill=(0, 0, 0))


def _code(row: Any) -> str:
    code = row.get("code")
    if isinstance(code, str) and code:
        return code
    return f"patch-{int(row['patch_id'])}" if row.get("patch_id") is not None else "lead"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):  # None, NaN, text
        return None


def _colour(row: Any) -> tuple[int, int, int]:
    return PRIORITY_COLOURS.get(_int_or_none(row.get("priority")) or 0, OTHER_COLOUR)


def _class_label(key: Any, cjk: bool) -> str:
    try:
        cls = ChangeClass.from_key(str(key))
    except KeyError:
        return str(key)
    return cls.label_zh.split("（")[0] if cjk else cls.key.replace("_", " ")


def _iso(value: DateLike) -> str:
    return value.isoformat() if isinstance(value, date) else (str(value) if value else "?")


def _check_out(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(path.parent, f"cannot create folder ({exc.strerror})") from exc


def _save(img: Image.Image, path: Path) -> Path:
    try:
        img.save(path, format="PNG", compress_level=6)  # optimize=True tried every filter: 5-10x slower
    except OSError as exc:
        raise OutputError(path, f"cannot write PNG ({exc})") from exc
    return path


def _resize(img: Image.Image, scale: float) -> Image.Image:
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    if scale >= 1:
        return img.resize(size, Image.Resampling.NEAREST)
    return img.resize(size, Image.Resampling.BOX)


# --- quicklook ------------------------------------------------------------------------------

def write_quicklook(
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    leads: gpd.GeoDataFrame,
    grid: Grid | Affine,
    path: str | Path,
    *,
    dates: tuple[DateLike, DateLike] = (None, None),
    max_width: int = 1600,
    max_upscale: int = 4,
    lang: str | None = None,
) -> Path:
    """Side-by-side PNG (before | after) no wider than ``max_width`` with every lead outlined
    on both sides and its code written beside it (leads in the order given, most urgent first;
    a code that would overprint an earlier one is left out, the outline stays); small scenes are enlarged (nearest, integer
    factor up to ``max_upscale``) so outlines stay readable."""
    path = Path(path)
    _check_out(path)
    b8, a8 = stretch_pair(before_rgb, after_rgb)
    rows, cols = b8.shape[:2]
    scale = (max_width - GAP) / (2 * cols)
    scale = float(min(max_upscale, math.floor(scale))) if scale >= 1 else scale
    panels = [_resize(Image.fromarray(x), scale) for x in (b8, a8)]
    pw, ph = panels[0].size
    canvas = Image.new("RGB", (2 * pw + GAP, ph + HEADER), (24, 24, 24))
    to_px = Affine.scale(pw / cols, ph / rows) @ ~array_transform(grid, b8.shape)
    draw = ImageDraw.Draw(canvas)
    lang = drawing_lang(lang)
    names = (t("pic.before", lang), t("pic.after", lang))
    for i, (panel, name, when) in enumerate(zip(panels, names, dates)):
        x0 = i * (pw + GAP)
        canvas.paste(panel, (x0, HEADER))
        _text(draw, (x0 + 4, 3), f"{name} {_iso(when)}", (255, 255, 255))
        placed: list[tuple[float, float, float, float]] = []  # label boxes on this panel
        for _, row in leads.iterrows():  # most urgent first: they get their labels
            shift = Affine.translation(x0, HEADER) @ to_px
            colour = _colour(row)
            rings = _rings(row.geometry, shift)
            for ring in rings:
                draw.line(ring, fill=colour, width=2)
            if rings:
                xs, ys = zip(*(xy for ring in rings for xy in ring))
                label = _code(row)
                width = _font(11)[0].getlength(label) + 4
                label_x = min(max(min(xs), x0), x0 + pw - width)
                label_y = max(HEADER, min(ys) - 15)
                box = (label_x, label_y, label_x + width, label_y + 14)
                if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in placed):
                    continue  # would overprint a more urgent lead's code: outline only
                placed.append(box)
                _text(draw, (label_x, label_y), label, colour, 11)
    legend_x = canvas.width - 4
    for prio in (4, 3, 2, 1):
        label = f"P{prio}"
        legend_x -= 28
        _text(draw, (legend_x, 3), label, PRIORITY_COLOURS[prio])
    return _save(canvas, path)


# --- chips ----------------------------------------------------------------------------------

def _chip_window(bounds: Sequence[float], shape: tuple[int, ...], pad: int,
                 min_px: int) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1) around pixel bounds (minx, miny, maxx, maxy), padded, at least
    ``min_px`` on each side where the array allows, clamped to the array."""
    rows, cols = shape[:2]
    out = []
    for lo, hi, n in ((bounds[1], bounds[3], rows), (bounds[0], bounds[2], cols)):
        a, b = math.floor(lo) - pad, math.ceil(hi) + pad
        if b - a < min_px:
            mid = (a + b) / 2
            a, b = math.floor(mid - min_px / 2), math.floor(mid - min_px / 2) + min_px
        if a < 0:
            a, b = 0, b - a
        if b > n:
            a, b = max(0, a - (b - n)), n
        out += [a, b]
    return out[0], out[1], out[2], out[3]


def write_chips(
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    leads: gpd.GeoDataFrame,
    grid: Grid | Affine,
    out_dir: str | Path,
    pad_px: int = 16,
    *,
    dates: tuple[DateLike, DateLike] = (None, None),
    min_px: int = 64,
    target_px: int = 256,
    max_px: int = 512,
    lang: str | None = None,
) -> dict[str, Path]:
    """One PNG per lead (``<code>.png``): before | after chips around the lead's bounding box
    (``pad_px`` padding, at least ``min_px`` array pixels a side), enlarged with nearest
    neighbour to about ``target_px`` (chips over ``max_px`` are shrunk to it), the lead outlined
    on both, and a caption with code, area
    (m2 and mu), change class and dates (``dates`` or the lead's ``before_date``/``after_date``).
    """
    out_dir = Path(out_dir)
    _check_out(out_dir / "x.png")
    b8, a8 = stretch_pair(before_rgb, after_rgb)
    to_arr = ~array_transform(grid, b8.shape)
    font, _ = _font(13)
    cjk = drawing_lang(lang) == "zh"
    written: dict[str, Path] = {}
    for _, row in leads.iterrows():
        code = _code(row)
        if row.geometry is None or row.geometry.is_empty:
            continue
        px_geom = shapely.affinity.affine_transform(row.geometry, to_arr.to_shapely())
        minx, miny, maxx, maxy = px_geom.bounds
        if maxx <= 0 or maxy <= 0 or minx >= b8.shape[1] or miny >= b8.shape[0]:
            continue  # the lead lies outside the arrays
        r0, r1, c0, c1 = _chip_window(px_geom.bounds, b8.shape, pad_px, min_px)
        side = max(r1 - r0, c1 - c0)
        k = max(1, round(target_px / side)) if side <= max_px else max_px / side
        chips = [_resize(Image.fromarray(x[r0:r1, c0:c1]), k) for x in (b8, a8)]
        cw, ch = chips[0].size
        lines = _caption(row, code, dates, cjk)
        text_w = max(int(font.getlength(line)) for line in lines) + 8
        canvas = Image.new("RGB", (max(2 * cw + GAP, text_w), ch + 18 * len(lines) + 6),
                           (24, 24, 24))
        draw = ImageDraw.Draw(canvas)
        local = (Affine.scale(cw / (c1 - c0), ch / (r1 - r0))
                 @ Affine.translation(-c0, -r0) @ to_arr)
        for i, chip in enumerate(chips):
            x0 = i * (cw + GAP)
            canvas.paste(chip, (x0, 0))
            for ring in _rings(row.geometry, Affine.translation(x0, 0) @ local):
                draw.line(ring, fill=_colour(row), width=2)
        for j, line in enumerate(lines):
            draw.text((4, ch + 4 + 18 * j), line, font=font, fill=(235, 235, 235))
        name = re.sub(r"[^\w.-]", "_", code) + ".png"
        written[code] = _save(canvas, out_dir / name)
    return written


def _caption(row: Any, code: str, dates: tuple[DateLike, DateLike], cjk: bool) -> list[str]:
    before = dates[0] if dates[0] is not None else row.get("before_date")
    after = dates[1] if dates[1] is not None else row.get("after_date")
    area_m2 = float(row.get("area_m2") or 0.0)
    area_mu = float(row.get("area_mu") or area_m2 / 666.67)
    cls = _class_label(row.get("change_class"), cjk)
    prio = _int_or_none(row.get("priority"))
    lang = "zh" if cjk else "en"
    head = f"{code}  {cls}" + (f"  {t('pic.priority', lang, p=prio)}" if prio is not None else "")
    area = t("pic.area", lang, m2=f"{area_m2:,.0f}", mu=f"{area_mu:.2f}")
    arrow = "→" if cjk else "->"
    return [head, f"{area}   {_iso(before)} {arrow} {_iso(after)}"]
