"""Figures of the printed reports (matplotlib, Agg): monthly trends and the map of leads.

Chinese labels need a CJK font in matplotlib too: :func:`cjk_font` registers Noto Sans CJK SC
(found through fontconfig) with matplotlib's font manager. Figures come back as PNG data URIs
for ``<img src>`` so an HTML report is one file and WeasyPrint embeds them in the PDF.
"""
from __future__ import annotations

import base64
import io
import shutil
import subprocess
from functools import lru_cache
from typing import Any

from pipeline.reporting.pdf import FontError, require_cjk_font

STATUS_COLOURS = {"new": "#d62728", "dispatched": "#ff7f0e", "verified": "#bcbd22", "stopped": "#9467bd",
                  "reported": "#8c564b", "filed": "#1f77b4", "rectified": "#17becf", "closed": "#2ca02c",
                  "transferred": "#7f7f7f", "not_filed": "#e377c2"}
STATUS_ZH = {"new": "新发现", "dispatched": "已派发", "verified": "已核查", "stopped": "已制止",
             "reported": "已报告", "filed": "已立案", "rectified": "已整改", "closed": "已结案",
             "transferred": "已移送", "not_filed": "不予立案"}


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the CJK family with matplotlib; returns its name."""
    from matplotlib import font_manager, rcParams

    family = require_cjk_font()
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise FontError("fontconfig", "fc-match not found, cannot locate the Chinese font file")
    path = subprocess.run([fc_match, "-f", "%{file}", family], capture_output=True, text=True,
                          check=False, timeout=60).stdout.strip()
    if not path:
        raise FontError("fontconfig", f"no file for font {family}")
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    rcParams["font.family"] = "sans-serif"
    rcParams["axes.unicode_minus"] = False
    return str(name)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def trend_chart(months: list[dict[str, Any]]) -> str:
    """Bars of new leads, cases and stops per month; lines of the patrol share and stop rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cjk_font()
    labels = [m["label"][5:] + "月" if len(m["label"]) == 7 else m["label"] for m in months]
    x = list(range(len(months)))
    fig, ax = plt.subplots(figsize=(7.0, 3.0))
    w = 0.27
    for k, (key, name) in enumerate((("new", "新发现线索"), ("illegal", "违法案件"), ("stopped", "制止"))):
        ax.bar([i + (k - 1) * w for i in x], [m[key] for m in months], w, label=name)
    ax.set_xticks(x, labels)
    ax.set_ylabel("件数")
    ax2 = ax.twinx()
    for key, name, style in (("patrol_share", "动态巡查发现率", "o-"), ("stop_rate", "制止率", "s--")):
        ys = [m[key] * 100 if m[key] is not None else float("nan") for m in months]
        ax2.plot(x, ys, style, label=name, color="k" if key == "stop_rate" else "#d62728")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("%")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left", ncol=5, frameon=False, bbox_to_anchor=(0, 1.18))
    return _png(fig)


def leads_map(zones: list[Any], leads: list[dict[str, Any]]) -> str:
    """The period's leads coloured by status over the responsibility zones (lon/lat)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cjk_font()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for z in zones:
        geom = z["geometry"]
        for poly in getattr(geom, "geoms", [geom]):
            if hasattr(poly, "exterior"):
                xs, ys = poly.exterior.xy
                ax.plot(xs, ys, color="#888", lw=0.8)
        c = geom.representative_point()
        ax.annotate(z["code"], (c.x, c.y), fontsize=6, color="#555", ha="center")
    for status, colour in STATUS_COLOURS.items():
        pts = [lead for lead in leads if lead["status"] == status]
        if pts:
            ax.scatter([p["centroid_lon"] for p in pts], [p["centroid_lat"] for p in pts], s=18,
                       color=colour, label=f"{STATUS_ZH[status]} ({len(pts)})",
                       edgecolors="k", linewidths=0.3, zorder=3)
    if not leads and not zones:
        ax.text(0.5, 0.5, "本期无线索", transform=ax.transAxes, ha="center")
    ax.set_xlabel("经度")
    ax.set_ylabel("纬度")
    ax.set_aspect("equal", adjustable="datalim")
    ax.ticklabel_format(useOffset=False)
    if leads:
        ax.legend(fontsize=7, loc="best")
    return _png(fig)
