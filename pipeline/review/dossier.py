"""The dossier per patch (卫片卷宗): one Chinese A4 PDF with the patch, its map over both dates'
imagery, areas, the judgment and its evidence, field photos with their metadata, stop notice,
case, rectification and the lead's full event history with each hash, ending with the ledger's
chain head at printing time. Rendered with :mod:`pipeline.reporting.pdf` (fonts embedded).
"""
from __future__ import annotations

import csv
import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.errors import InputError, OutputError
from pipeline.review.checklist import ALL_FIELDS, LABELS, missing
from pipeline.review.landuse import land_use_name

CHINA = ZoneInfo("Asia/Shanghai")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def china_time(value: Any) -> str:
    """An instant (ISO text or datetime, UTC when naive) as China time ``YYYY-MM-DD HH:MM``."""
    if value is None:
        return "—"
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt
    return dt.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def find_patch(led: Any, key: str) -> tuple[str, str]:
    """``(batch name, patch_no)`` of a monitoring number or a lead code (its latest patch)."""
    from sqlalchemy import select

    from pipeline.ledger.schema import Lead
    from pipeline.ledger.schema_inspection import InspectionBatch, InspectionPatch

    stmt = (select(InspectionBatch.name, InspectionPatch.patch_no)
            .join(InspectionBatch, InspectionBatch.id == InspectionPatch.batch_id)
            .join(Lead, Lead.id == InspectionPatch.lead_id))
    row = led.read(lambda c: c.execute(stmt.where(InspectionPatch.patch_no == key)
                                       .order_by(InspectionPatch.id.desc())).first()
                   or c.execute(stmt.where(Lead.code == key).order_by(InspectionPatch.id.desc())).first())
    if row is None:
        raise InputError(key, "no issued patch with this monitoring number or lead code")
    return str(row[0]), str(row[1])


def dossier_context(led: Any, batch: str, patch_no: str, map_png: Path,
                    runs_dir: Path | None) -> dict[str, Any]:
    """Everything the template shows for one patch (writes the map to ``map_png``)."""
    from pipeline.review.dossier_map import write_map

    frame = led.batch_patches(batch)
    rec = frame[frame["patch_no"] == patch_no].iloc[0].to_dict()
    lead = led.get_lead(rec["lead_code"])
    info = write_map(rec["geometry"], lead["geometry"], runs_dir, map_png)
    ev = {k: None for k in ALL_FIELDS} | dict(rec["evidence"] or {})
    ahead = rec.get("days_ahead")
    rec["ahead"] = "—" if ahead is None or ahead != ahead else f"{int(ahead)} 天"
    photos = [a | {"taken": china_time(a.get("taken_at")),
                   "image": Path(a["path"]).suffix.lower() in IMAGE_SUFFIXES and Path(a["path"]).is_file(),
                   "uri": Path(a["path"]).resolve().as_uri()} for a in lead["attachments"]]
    need = missing(ev, lead["status"], lead, lead["attachments"])
    events = [e | {"when": china_time(e["at"])} for e in led.history(rec["lead_code"])]
    head = led.chain_head()
    return {
        "title": f"卫片图斑卷宗 {patch_no}", "patch": rec, "batch": led.batch(batch), "lead": lead,
        "ev": ev, "land_use_name": land_use_name(ev.get("land_use")), "parts": rec["parts"] or [],
        "map_uri": map_png.resolve().as_uri(), "imagery": info["imagery"], "photos": photos,
        "missing": [LABELS.get(k, k) for k in need], "events": events, "head": head,
        "printed": china_time(datetime.now(UTC)),
    }


def write_dossier(led: Any, key: str, output: Path, runs_dir: Path | None = None) -> Path:
    """Render the dossier of patch ``key`` (monitoring number or lead code) to ``output``."""
    from pipeline.reporting.pdf import html_to_pdf, render_html

    if not output.parent.is_dir():
        raise OutputError(output, f"folder {output.parent} does not exist")
    batch, patch_no = find_patch(led, key)
    with tempfile.TemporaryDirectory(prefix="dossier-") as tmp:
        ctx = dossier_context(led, batch, patch_no, Path(tmp) / "map.png", runs_dir)
        return html_to_pdf(render_html("dossier.html", ctx), output, base_url=tmp)


def write_dossiers(led: Any, batch: str, folder: Path, runs_dir: Path | None = None) -> Path:
    """One PDF per patch of ``batch`` in ``folder`` plus ``index.csv`` (UTF-8 with BOM)."""
    if led.batch(batch) is None:
        raise InputError(batch, "no such batch")
    if not folder.is_dir():
        raise OutputError(folder, "output folder does not exist")
    rows = []
    for rec in led.batch_patches(batch).to_dict("records"):
        out = write_dossier(led, rec["patch_no"], folder / f"{rec['patch_no']}.pdf", runs_dir)
        rows.append({"监测编号": rec["patch_no"], "线索编号": rec["lead_code"],
                     "判定结果": rec["judgment"] or "", "状态": rec["status"], "文件": out.name,
                     "sha256": hashlib.sha256(out.read_bytes()).hexdigest()})
    index = folder / "index.csv"
    with index.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["监测编号", "线索编号", "判定结果", "状态", "文件", "sha256"])
        writer.writeheader()
        writer.writerows(rows)
    return index
