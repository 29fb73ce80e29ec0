"""The satellite-inspection part of the :class:`~pipeline.ledger.store.Ledger` facade."""
from __future__ import annotations

from datetime import date
from typing import Any

import geopandas as gpd

from pipeline.ledger import inspection_queries as iq
from pipeline.ledger.inspection import BatchSpec, ImportOutcome, import_batch


class InspectionMixin:
    """Methods of :class:`Ledger` for inspection batches (needs ``read`` and ``write``)."""

    def read(self, fn: Any) -> Any:  # pragma: no cover - provided by Ledger
        raise NotImplementedError

    def write(self, fn: Any) -> Any:  # pragma: no cover - provided by Ledger
        raise NotImplementedError

    calendar: Any  # the ledger's WorkCalendar

    def import_batch(self, spec: BatchSpec, patches: gpd.GeoDataFrame) -> ImportOutcome:
        """Import an issued batch in one transaction (see :mod:`pipeline.ledger.inspection`)."""
        return self.write(lambda c: import_batch(c, spec, patches))

    def batch(self, name: str) -> dict[str, Any] | None:
        return self.read(lambda c: iq.get_batch(c, name))

    def batches(self) -> list[dict[str, Any]]:
        return self.read(iq.list_batches)

    def batch_patches(self, name: str) -> gpd.GeoDataFrame:
        """Patches of batch ``name`` with their lead's status, judgment and rectification
        (:data:`pipeline.ledger.inspection_queries.PATCH_FRAME_COLUMNS`), EPSG:4326."""
        return self.read(lambda c: iq.batch_patches(c, name))

    def lead_patches(self, code: str) -> list[dict[str, Any]]:
        """The issued patches of lead ``code``: ``patch_no``, ``evidence``, ``batch``, in import order."""
        return self.read(lambda c: iq.lead_patches(c, code))

    def record_evidence(self, code: str, by: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Amend the 举证 of lead ``code``'s patches outside a lifecycle step (checked)."""
        from pipeline.errors import InputError
        from pipeline.ledger.inspection_evidence import EvidenceRefused, record_evidence

        def run(conn: Any) -> dict[str, Any]:
            try:
                return record_evidence(conn, code, by, dict(fields))
            except EvidenceRefused as exc:
                raise InputError(code, str(exc)) from None

        return self.write(run)

    def batch_overdue(self, name: str, today: date | None = None) -> list[dict[str, Any]]:
        """Patches of batch ``name`` past its check, 举证 or rectification due date."""
        from pipeline.ledger.inspection_overdue import batch_overdue

        day = today or date.today()
        return self.read(lambda c: batch_overdue(c, name, day, self.calendar))

    def reconcile(self, name: str) -> dict[str, Any] | None:
        """Per patch: did landpatrol have it first, how many days ahead; totals."""
        return self.read(lambda c: iq.reconcile(c, name))
