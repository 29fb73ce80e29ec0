"""Writing one run into the ledger (called inside the write transaction by ``Ledger.record_run``).

Patches are matched against the open leads as they were before the run: each one that overlaps
an open lead of the region becomes a sighting of that lead (several patches on one lead are
merged into one sighting), every other one becomes a new lead with the next code, assigned to the
persons of the responsibility zone it falls in.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import Connection, insert, select, update

from pipeline.ledger.codes import allocate_code, jsonable
from pipeline.ledger.events import append_event
from pipeline.ledger.intake import PatchRow, area_fields, merge_rows
from pipeline.ledger.matching import bbox, best_open_lead
from pipeline.ledger.patrols import zone_for
from pipeline.ledger.records import RunOutcome, RunRecord
from pipeline.ledger.regions import register_region
from pipeline.ledger.runs import COMPLETED, PENDING_OUTPUTS
from pipeline.ledger.schema import (
    ApprovedChange,
    ComparedPair,
    Lead,
    LeadObservation,
    Run,
)
from pipeline.timeutil import now_utc

SOURCE_IMAGERY = "imagery"


def _now() -> datetime:
    return now_utc()


def record(conn: Connection, run: RunRecord, key: str, lead_rows: list[PatchRow],
            approved_rows: list[PatchRow]) -> RunOutcome:
    done = conn.execute(select(ComparedPair.run_id).where(ComparedPair.pair_key == key)).scalar()
    if done is not None:
        return RunOutcome(run_id=done, created=[], updated=[], skipped=True, pair_key=key)
    now = _now()
    run_id = conn.execute(insert(Run).values(
        region=run.region, pair_key=key, status=PENDING_OUTPUTS if run.outputs_pending else COMPLETED, started_at=run.started_at,
        finished_at=run.finished_at, recorded_at=now, before_path=str(run.before_path),
        before_hash=run.before_hash, before_date=run.before_date, before_sensor=run.before_sensor,
        after_path=str(run.after_path), after_hash=run.after_hash, after_date=run.after_date,
        after_sensor=run.after_sensor, detector_name=run.detector_name,
        detector_version=run.detector_version, parameters=_json(run.parameters),
        scene_params=_json(run.scene_params), patches_count=run.patches_count,
        leads_count=len(lead_rows), approved_count=len(approved_rows), created_count=0,
        updated_count=0,
    ).returning(Run.id)).scalar_one()
    register_region(conn, run.region, run.region_name)
    conn.execute(insert(ComparedPair).values(
        region=run.region, pair_key=key, before_hash=run.before_hash, after_hash=run.after_hash,
        run_id=run_id, compared_at=now))

    # Match every patch against the open leads as they were before this run.
    groups: dict[int, list[PatchRow]] = defaultdict(list)
    fresh: list[PatchRow] = []
    for row in lead_rows:
        lead_id = best_open_lead(conn, run.region, row.geom)
        (groups[lead_id].append(row) if lead_id is not None else fresh.append(row))
    updated = [_seen_again(conn, run, run_id, lead_id, merge_rows(rows), now)
               for lead_id, rows in sorted(groups.items())]
    created = [_create_lead(conn, run, run_id, row, now) for row in fresh]
    for row in approved_rows:
        insert_approved(conn, run, run_id, row)
    conn.execute(update(Run).where(Run.id == run_id).values(
        created_count=len(created), updated_count=len(updated)))
    append_event(conn, entity="run", entity_id=run_id, action="run_recorded", actor=run.actor,
                 after={"region": run.region, "pair_key": key, "before": run.before_hash,
                        "after": run.after_hash, "detector": f"{run.detector_name} {run.detector_version}",
                        "created": created, "updated": updated, "approved": len(approved_rows)})
    return RunOutcome(run_id=run_id, created=created, updated=updated, skipped=False,
                      pair_key=key, approved=len(approved_rows))


def _json(value: dict[str, Any]) -> dict[str, Any]:
    return jsonable(dict(value))


def _create_lead(conn: Connection, run: RunRecord, run_id: int, row: PatchRow, now: datetime) -> str:
    code = allocate_code(conn, run.region, run.after_date.year)
    values = dict(
        code=code, region=run.region, status="new", source=SOURCE_IMAGERY,
        geom_wkb=shapely.to_wkb(row.geom), **bbox(row.geom), **area_fields(row.area_m2),
        first_seen=run.after_date, last_seen=run.after_date, seen_count=1, **row.attrs,
        first_run_id=run_id, last_run_id=run_id, created_at=now, updated_at=now,
        **assignment(conn, row.geom),
    )
    lead_id = conn.execute(insert(Lead).values(**values).returning(Lead.id)).scalar_one()
    insert_observation(conn, lead_id, run_id, run.after_date, row)
    append_event(conn, entity="lead", entity_id=lead_id, lead_code=code, action="created",
                 actor=run.actor, after=_event_view(values))
    return code


def _seen_again(conn: Connection, run: RunRecord, run_id: int, lead_id: int, row: PatchRow,
                now: datetime) -> str:
    lead = conn.execute(select(Lead).where(Lead.id == lead_id)).mappings().one()
    newer = run.after_date >= lead["last_seen"]
    values: dict[str, Any] = {"seen_count": lead["seen_count"] + 1, "last_run_id": run_id,
                              "updated_at": now}
    if newer:  # the area and attributes 'now' are those of the latest sighting
        values.update(last_seen=run.after_date, geom_wkb=shapely.to_wkb(row.geom),
                      **bbox(row.geom), **area_fields(row.area_m2), **row.attrs)
    conn.execute(update(Lead).where(Lead.id == lead_id).values(**values))
    insert_observation(conn, lead_id, run_id, run.after_date, row)
    # every value the lead now has from this sighting, so the lead replays from its events
    shown = {k: v for k, v in values.items() if k not in _UNSHOWN}
    before = {k: lead[k] for k in shown if k != "last_run_id"}
    if "geom_wkb" in values:
        shown["geometry"] = shapely.to_wkt(row.geom, rounding_precision=7)
    append_event(conn, entity="lead", entity_id=lead_id, lead_code=lead["code"], action="seen_again",
                 actor=run.actor, before=before,
                 after={k: v for k, v in shown.items() if k != "last_run_id"} | {"run_id": run_id})
    return lead["code"]


_UNSHOWN = frozenset({"geom_wkb", "minx", "miny", "maxx", "maxy", "updated_at"})


def insert_observation(conn: Connection, lead_id: int, run_id: int | None, observed_on: Any,
                       row: PatchRow, source: str = SOURCE_IMAGERY) -> None:
    conn.execute(insert(LeadObservation).values(
        lead_id=lead_id, run_id=run_id, source=source, observed_on=observed_on,
        area_m2=row.area_m2, score_mean=row.attrs.get("score_mean"),
        score_max=row.attrs.get("score_max"), geom_wkb=shapely.to_wkb(row.geom)))


def insert_approved(conn: Connection, run: RunRecord, run_id: int, row: PatchRow) -> None:
    conn.execute(insert(ApprovedChange).values(
        run_id=run_id, region=run.region, observed_on=run.after_date,
        geom_wkb=shapely.to_wkb(row.geom), **bbox(row.geom), **area_fields(row.area_m2),
        change_class=row.attrs["change_class"], approvals=row.attrs["approvals"],
        zones=row.attrs.get("zones") or [],
        approved_share=row.attrs["approved_share"] or 1.0,
        centroid_lon=row.attrs["centroid_lon"], centroid_lat=row.attrs["centroid_lat"]))


def _event_view(values: dict[str, Any]) -> dict[str, Any]:
    """A lead's values as an event records them: no WKB, geometry as WKT."""
    out = {k: v for k, v in values.items() if k not in ("geom_wkb", "created_at", "updated_at")}
    out["geometry"] = shapely.to_wkt(shapely.from_wkb(values["geom_wkb"]), rounding_precision=7)
    return out


def assignment(conn: Connection, geom: Any) -> dict[str, Any]:
    """``patrol_zone_id`` and ``assignee`` (the zone's persons) of a new lead at ``geom``."""
    zone = zone_for(conn, geom)
    if zone is None:
        return {"patrol_zone_id": None, "assignee": None}
    return {"patrol_zone_id": zone["id"], "assignee": ",".join(zone["persons"]) or None}
