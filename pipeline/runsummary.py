"""What an analyst reads about one compared pair: a lead table and a short summary.

Pure functions over a :class:`pipeline.runner.RunReport` (no Prefect here); the flows publish
them as Prefect artifacts (:mod:`flows.artifacts`). Links go to the web app's lead pages when
``$LANDPATROL_WEB_URL`` is set (``http://patrol.example:8000``), and to the run folder.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline import settings
from pipeline.i18n import t

WEB_URL_ENV = settings.WEB_URL_ENV
TABLE_COLUMNS = ("code", "priority", "change_class", "area_m2", "area_mu", "zone_level",
                 "approved_share", "centroid_lon", "centroid_lat", "score_mean")


def web_url() -> str | None:
    url = settings.load().web_url.strip().rstrip("/")
    return url or None


def artifact_key(kind: str, region: str, before: str, after: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes): ``leads-nj-20000503-20020712``."""
    raw = f"{kind}-{region}-{before.replace('-', '')}-{after.replace('-', '')}".lower()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")


def lead_link(code: str | None) -> str | None:
    base = web_url()
    return f"{base}/leads/{code}" if base and code else None


def lead_rows(report: Any, lang: str | None = None) -> list[dict[str, Any]]:
    """One row per lead of the report, most urgent first, headers in ``lang``."""
    rows = sorted(report.leads, key=lambda r: (r.get("priority") or 9, -(r.get("area_m2") or 0)))
    out = []
    for r in rows:
        row = {t(f"col.{c}", lang): _round(r.get(c)) for c in TABLE_COLUMNS if c in r}
        link = lead_link(r.get("code"))
        if link:
            row[t("run.link", lang)] = link
        out.append(row)
    return out


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def priority_one(report: Any) -> list[str]:
    """Codes of the new leads (created by this run) of priority 1."""
    created = set(report.created)
    return [r["code"] for r in report.leads if r.get("priority") == 1 and r.get("code") in created]


def summary_markdown(report: Any, title: str, detector: str, threshold: float | None,
                     lang: str | None = None) -> str:
    """Counts, detector and cut, and where to look next, as Markdown."""
    lines = [f"# {title}", ""]
    if report.skipped:
        lines.append(t("run.skipped", lang))
        return "\n".join(lines) + "\n"
    p1 = priority_one(report)
    cut = "?" if threshold is None else f"{threshold:g}"
    facts = [
        (t("run.created", lang), len(report.created)),
        (t("run.updated", lang), len(report.updated)),
        (t("run.priority1", lang), len(p1)),
        (t("run.approved", lang), report.approved),
        (t("run.patches", lang), report.patches),
        (t("run.detector", lang), f"`{detector}`"),
        (t("run.cut", lang), f"score > {cut}"),
    ]
    clouds = getattr(report, "clouds", None)
    if clouds:
        facts.append((t("run.clouds", lang), clouds_cell(clouds, lang)))
    lines += [f"| {t('run.item', lang)} | {t('run.value', lang)} |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in facts]
    lines.append("")
    if p1:
        lines.append(f"**{t('run.priority1', lang)}:** " + ", ".join(_code_link(c) for c in p1))
        lines.append("")
    if report.out_dir:
        folder = Path(report.out_dir).resolve()
        lines.append(f"{t('run.folder', lang)}: [{folder}]({folder.as_uri()})")
    base = web_url()
    if base:
        lines.append(f"{t('run.web', lang)}: [{base}/]({base}/)")
    return "\n".join(lines) + "\n"


def clouds_cell(clouds: dict[str, Any], lang: str | None = None) -> str:
    """``9.5% (1.66 of 17.59 km2; before 4.1%, after 6.2%)``; a date not checked says so."""
    def pct(d: dict[str, Any] | None) -> str:
        share = (d or {}).get("share")
        return t("run.clouds_unchecked", lang) if share is None else f"{100 * share:.1f}%"

    union = clouds.get("union") or {}
    km2 = union.get("km2")
    return t("run.clouds_value", lang, union=pct(union), km2="?" if km2 is None else f"{km2:.2f}",
             overlap=f"{clouds.get('overlap_km2', 0):.2f}", before=pct(clouds.get("before")),
             after=pct(clouds.get("after")))


def _code_link(code: str) -> str:
    link = lead_link(code)
    return f"[{code}]({link})" if link else f"`{code}`"
