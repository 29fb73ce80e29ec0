"""A run's state after it is recorded: is its run folder published, and which leads it touched.

A run recorded with outputs to come (``--out``) has status ``pending_outputs`` until its run
folder is published; then ``completed`` (with a ``run_published`` event naming the folder). A
run killed or starved of disk between the two stays pending, and a rerun of the same pair
publishes the folder instead of skipping it (see :func:`pipeline.runner.commit_pair`).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, select, update

from pipeline.ledger.events import append_event
from pipeline.ledger.matching import STORAGE_CRS
from pipeline.ledger.schema import ComparedPair, Lead, LeadObservation, Run

COMPLETED = "completed"
PENDING_OUTPUTS = "pending_outputs"


@dataclass(frozen=True)
class RunState:
    run_id: int
    status: str

    @property
    def pending(self) -> bool:
        return self.status == PENDING_OUTPUTS


def run_state(conn: Connection, pair_key: str) -> RunState | None:
    """The recorded run of ``pair_key`` and its status; ``None`` if the pair was never compared."""
    row = conn.execute(select(Run.id, Run.status).join(ComparedPair, ComparedPair.run_id == Run.id)
                       .where(ComparedPair.pair_key == pair_key)).first()
    return None if row is None else RunState(int(row[0]), str(row[1]))


def mark_published(conn: Connection, run_id: int, folder: str, actor: str = "landpatrol") -> bool:
    """Record that run ``run_id``'s folder is in place; ``False`` if it already was."""
    status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar()
    if status != PENDING_OUTPUTS:
        return False
    conn.execute(update(Run).where(Run.id == run_id).values(status=COMPLETED))
    append_event(conn, entity="run", entity_id=run_id, action="run_published", actor=actor,
                 after={"folder": folder})
    return True


def run_leads(conn: Connection, run_id: int) -> gpd.GeoDataFrame:
    """Every lead run ``run_id`` sighted: ``code``, ``created`` (its first run), and the
    sighting's geometry (EPSG:4326), in sighting order."""
    rows = conn.execute(
        select(Lead.code, Lead.first_run_id, LeadObservation.geom_wkb)
        .join(Lead, Lead.id == LeadObservation.lead_id)
        .where(LeadObservation.run_id == run_id).order_by(LeadObservation.id)).all()
    frame = pd.DataFrame({"code": [r[0] for r in rows],
                          "created": [r[1] == run_id for r in rows]})
    geoms = gpd.GeoSeries(list(shapely.from_wkb([r[2] for r in rows])) if rows else [],
                          crs=STORAGE_CRS)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_CRS)
