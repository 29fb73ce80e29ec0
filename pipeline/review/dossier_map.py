"""The dossier's map: the patch (and its lead) over both dates' imagery of the run that saw it.

The imagery is the run folder's true-colour overlays (``overlay_{before,after}.png`` in
EPSG:3857 between the lat/lon bounds of ``overlay.json``, see :mod:`pipeline.outputs`), cropped
around the patch. Without a run folder over the patch the map shows the outlines alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

PAD = 0.6  # of the patch's extent on each side


def _overlay(runs_dir: Path | None, lon: float, lat: float) -> Any:
    from pipeline.web.imagery import overlays_at

    found = overlays_at(runs_dir, lon, lat)
    return found[0] if found else None


def write_map(patch: BaseGeometry, lead: BaseGeometry | None, runs_dir: Path | None,
              output: Path, labels: tuple[str, str] = ("前时相", "后时相")) -> dict[str, Any]:
    """Write the two-panel PNG; returns what it shows (``imagery``: the run, dates or ``None``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from PIL import Image

    for path in ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                 "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"):
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            plt.rcParams["font.family"] = ["Noto Sans CJK JP", "sans-serif"]
            break
    shapes = gpd.GeoSeries([patch] + ([lead] if lead is not None else []), crs=4326).to_crs(3857)
    x0, y0, x1, y1 = shapes.total_bounds
    pad = max(x1 - x0, y1 - y0, 300.0) * PAD
    box = (x0 - pad, x1 + pad, y0 - pad, y1 + pad)
    c = patch.representative_point()
    ov = _overlay(runs_dir, c.x, c.y)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.2), dpi=150)
    info: dict[str, Any] = {"imagery": None}
    if ov is not None:
        (s, w), (n, e) = ov.bounds
        corners = gpd.GeoSeries.from_xy([w, e], [s, n], crs=4326).to_crs(3857)
        extent = (corners.x.iloc[0], corners.x.iloc[1], corners.y.iloc[0], corners.y.iloc[1])
        info["imagery"] = {"run": ov.run, "before_date": ov.before_date, "after_date": ov.after_date}
    for ax, which, label in zip(axes, ("before", "after"), labels):
        if ov is not None:
            img = np.asarray(Image.open(ov.folder / f"overlay_{which}.png"))
            ax.imshow(img, extent=extent, interpolation="nearest")
            day = ov.before_date if which == "before" else ov.after_date
            ax.set_title(f"{label} {day or ''}", fontsize=9)
        else:
            ax.set_facecolor("#ddd")
            ax.set_title(f"{label}（无影像）", fontsize=9)
        if lead is not None:
            shapes.iloc[1:].boundary.plot(ax=ax, color="#00e5ff", linewidth=1.0, linestyle="--")
        shapes.iloc[:1].boundary.plot(ax=ax, color="#ff2020", linewidth=1.4)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    fig.text(0.5, 0.02, "红线：下发图斑    青色虚线：巡查线索", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(output)
    plt.close(fig)
    return info
