"""What a run hands the ledger and what it gets back."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pipeline.ledger.codes import pair_key


@dataclass(frozen=True)
class RunRecord:
    """One compared pair as the ledger records it.

    ``before_hash``/``after_hash`` are content hashes of the tiles (``pipeline.io.tiles.tile_hash``);
    together with the detector and ``parameters`` they make :attr:`pair_key`, which the ledger
    keeps so that running the same pair again adds nothing. ``parameters`` must be JSON-able
    (numpy scalars, dates and tuples are converted).
    """

    region: str
    before_path: str
    before_hash: str
    before_date: date
    after_path: str
    after_hash: str
    after_date: date
    detector_name: str
    detector_version: str
    parameters: dict[str, Any] = field(default_factory=dict)
    scene_params: dict[str, Any] = field(default_factory=dict)
    before_sensor: str | None = None
    after_sensor: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    patches_count: int | None = None
    actor: str = "landpatrol"
    #: a run folder is still to be published: the run stays ``pending_outputs`` until it is
    outputs_pending: bool = False
    #: the region's name as users type it (``region`` is its code); registered with the run
    region_name: str | None = None

    @property
    def pair_key(self) -> str:
        return pair_key(self.before_hash, self.after_hash, self.detector_name,
                        self.detector_version, self.parameters)


@dataclass(frozen=True)
class RunOutcome:
    """Result of :meth:`Ledger.record_run`.

    ``skipped`` is true when the pair had been compared before: nothing was written and
    ``run_id`` is the earlier run's. ``created``/``updated`` are lead codes.
    """

    run_id: int
    created: list[str]
    updated: list[str]
    skipped: bool
    pair_key: str = ""
    approved: int = 0
