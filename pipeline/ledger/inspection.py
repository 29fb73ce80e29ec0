"""Importing an issued batch into the ledger (inside one write transaction).

Each new patch either joins the lead it overlaps (open or closed: the lead gains the patch
number and the source ``satellite_inspection``, as an ``inspection_joined`` event on it) or
opens a new lead of that source through the code that creates every non-imagery lead
(:func:`pipeline.ledger.sources.create_lead`). A patch number already in the batch with the
same outline and attributes is skipped, so importing the same file again writes nothing; one
with other values is refused, and the whole import with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, insert, select, update

from pipeline.errors import InputError
from pipeline.ledger.codes import jsonable
from pipeline.ledger.events import append_event
from pipeline.ledger.inspection_match import Match, match_patches
from pipeline.ledger.intake import PatchRow
from pipeline.ledger.matching import bbox
from pipeline.ledger.schema import Lead
from pipeline.ledger.schema_inspection import InspectionBatch, InspectionPatch
from pipeline.ledger.sources import INSPECTION_SOURCE, create_lead

#: patch values compared when the same number comes again
_SAME = ("admin_code", "area_mu", "before_date", "after_date", "label", "note")


@dataclass(frozen=True)
class BatchSpec:
    """A batch as the analyst names it on import."""

    name: str
    issued_on: date
    source_path: str
    source_sha256: str
    by: str
    region: str | None = None
    check_due: date | None = None
    evidence_due: date | None = None
    rectify_due: date | None = None


@dataclass
class ImportOutcome:
    batch: str
    region: str
    batch_created: bool
    joined: list[tuple[str, str]] = field(default_factory=list)   # (patch_no, lead code)
    created: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.batch_created or bool(self.joined or self.created)


def _region(conn: Connection, spec: BatchSpec, existing: dict[str, Any] | None,
            matches: dict[str, Match]) -> str:
    if existing is not None:
        if spec.region is not None and spec.region != existing["region"]:
            raise InputError(spec.source_path, f"batch {spec.name} belongs to region "
                             f"{existing['region']}, not {spec.region}")
        return str(existing["region"])
    if spec.region is not None:
        return spec.region
    ids = [m.lead_id for m in matches.values() if m.lead_id is not None]
    regions = set(conn.execute(select(Lead.region).where(Lead.id.in_(ids))).scalars()) if ids else set()
    if len(regions) != 1:
        found = ", ".join(sorted(regions)) or "none"
        raise InputError(spec.source_path, f"cannot tell the batch's region from the leads it "
                         f"overlaps (regions: {found}); give --region")
    return regions.pop()


def _same(row: dict[str, Any], rec: dict[str, Any]) -> bool:
    if any(jsonable(row[k]) != jsonable(rec[k]) for k in _SAME):
        return False
    return bool(shapely.from_wkb(row["geom_wkb"]).equals_exact(rec["geometry"], 1e-9))


def import_batch(conn: Connection, spec: BatchSpec, patches: gpd.GeoDataFrame) -> ImportOutcome:
    """Write ``patches`` (from :func:`pipeline.review.reading.read_patch_list`) as batch ``spec``."""
    existing = conn.execute(select(InspectionBatch).where(InspectionBatch.name == spec.name)).mappings().first()
    if existing is not None and existing["issued_on"] != spec.issued_on:
        raise InputError(spec.source_path, f"batch {spec.name} was issued on {existing['issued_on']}, "
                         f"not {spec.issued_on}")
    known: dict[str, dict[str, Any]] = {}
    if existing is not None:
        known = {r["patch_no"]: dict(r) for r in conn.execute(select(InspectionPatch).where(
            InspectionPatch.batch_id == existing["id"])).mappings()}
    recs = patches.to_dict("records")
    unchanged = []
    for rec in recs:
        old = known.get(rec["patch_no"])
        if old is None:
            continue
        if not _same(old, rec):
            raise InputError(spec.source_path, f"patch {rec['patch_no']} is already in batch {spec.name} "
                             "with another outline or attributes (a corrected list is a new batch)")
        unchanged.append(rec["patch_no"])
    fresh = [r for r in recs if r["patch_no"] not in known]
    frame = patches[patches["patch_no"].isin([r["patch_no"] for r in fresh])]
    matches = match_patches(conn, frame, spec.region or (existing["region"] if existing else None))
    region = _region(conn, spec, dict(existing) if existing else None, matches)
    outcome = ImportOutcome(spec.name, region, existing is None, unchanged=unchanged)
    if not fresh:
        return outcome
    now = datetime.now(UTC)
    batch_id = existing["id"] if existing is not None else _insert_batch(conn, spec, region, fresh, now)
    for rec in fresh:
        match = matches[rec["patch_no"]]
        if match.lead_id is not None:
            _join(conn, spec, match, rec)
            outcome.joined.append((rec["patch_no"], str(match.lead_code)))
            lead_id = match.lead_id
        else:
            code = _open_lead(conn, spec, region, rec, now)
            outcome.created.append((rec["patch_no"], code))
            lead_id = conn.execute(select(Lead.id).where(Lead.code == code)).scalar_one()
        _insert_patch(conn, batch_id, rec, lead_id, match)
    return outcome


def _insert_batch(conn: Connection, spec: BatchSpec, region: str, recs: list[dict[str, Any]],
                  now: datetime) -> int:
    labels = sorted({r["label"] for r in recs if r.get("label")})
    values = dict(name=spec.name, label=", ".join(labels) or None, region=region,
                  issued_on=spec.issued_on, check_due=spec.check_due, evidence_due=spec.evidence_due,
                  rectify_due=spec.rectify_due, source_path=spec.source_path,
                  source_sha256=spec.source_sha256, imported_by=spec.by, imported_at=now)
    bid = conn.execute(insert(InspectionBatch).values(**values).returning(InspectionBatch.id)).scalar_one()
    append_event(conn, entity="inspection_batch", entity_id=bid, action="batch_imported",
                 actor=spec.by, after={k: v for k, v in values.items() if k != "imported_at"}
                 | {"patches": len(recs)})
    return int(bid)


def _insert_patch(conn: Connection, batch_id: int, rec: dict[str, Any], lead_id: int,
                  match: Match) -> None:
    geom = rec["geometry"]
    point = geom.representative_point()
    conn.execute(insert(InspectionPatch).values(
        batch_id=batch_id, patch_no=rec["patch_no"], admin_code=rec["admin_code"],
        area_mu=rec["area_mu"], measured_area_m2=rec["area_m2"], before_date=rec["before_date"],
        after_date=rec["after_date"], label=rec["label"], note=rec["note"], attrs=rec["attrs"],
        geom_wkb=shapely.to_wkb(geom), **bbox(geom), centroid_lon=point.x, centroid_lat=point.y,
        lead_id=lead_id, joined=match.lead_id is not None, overlap_share=match.share,
        other_leads=list(match.others), evidence={}))


def _join(conn: Connection, spec: BatchSpec, match: Match, rec: dict[str, Any]) -> None:
    lead = conn.execute(select(Lead.source, Lead.sources, Lead.patch_nos).where(
        Lead.id == match.lead_id)).one()
    sources = list(lead.sources or [lead.source])
    patch_nos = list(lead.patch_nos or [])
    after = {"sources": sources + [INSPECTION_SOURCE] if INSPECTION_SOURCE not in sources else sources,
             "patch_nos": patch_nos + [rec["patch_no"]]}
    conn.execute(update(Lead).where(Lead.id == match.lead_id).values(
        **after, updated_at=datetime.now(UTC)))
    append_event(conn, entity="lead", entity_id=match.lead_id, lead_code=match.lead_code,
                 action="inspection_joined", actor=spec.by,
                 before={"sources": lead.sources, "patch_nos": lead.patch_nos},
                 after=after | {"batch": spec.name, "patch_no": rec["patch_no"],
                                "issued_on": spec.issued_on, "overlap_share": match.share,
                                "also_overlaps": match.others})


def _open_lead(conn: Connection, spec: BatchSpec, region: str, rec: dict[str, Any],
               now: datetime) -> str:
    geom = rec["geometry"]
    row = PatchRow(geom=geom, area_m2=rec["area_m2"], attrs={"score_mean": None, "score_max": None})
    return create_lead(conn, region=region, source=INSPECTION_SOURCE, geom=geom,
                       area_m2=rec["area_m2"], seen_on=spec.issued_on, by=spec.by, row=row, now=now,
                       extra={"description": rec["note"], "sources": [INSPECTION_SOURCE],
                              "patch_nos": [rec["patch_no"]]})
