"""On SQLite: an R*Tree over the leads' bounding boxes, so that matching a patch to open leads
asks an index instead of scanning about half a region's leads per patch (10 patches a second
against 100,000 leads, ``benchmarks/README.md``).

``leads_rtree`` (SQLite's ``rtree`` module: id and the four bounds) is filled from ``leads`` and
kept in step by triggers on insert, on a change of the bounds and on delete, so every write
path (runs, reports from the ground, lifecycle, patrol zones) stays as it is. Its bounds are
32-bit floats rounded outwards: a query of it returns a superset, which
:mod:`pipeline.ledger.matching` checks against the exact columns. A SQLite built without the
module, and PostgreSQL (GiST, revision 0009), are left as they are. A later revision that
rebuilds ``leads`` on SQLite (Alembic's batch mode copies the table, dropping its triggers)
must create the triggers again.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "leads_rtree"
_BOUNDS = "minx, maxx, miny, maxy"
_TRIGGERS = {
    "leads_rtree_insert": f"AFTER INSERT ON leads BEGIN INSERT INTO {TABLE} (id, {_BOUNDS}) "
                          f"VALUES (NEW.id, NEW.minx, NEW.maxx, NEW.miny, NEW.maxy); END",
    "leads_rtree_update": f"AFTER UPDATE OF {_BOUNDS} ON leads BEGIN UPDATE {TABLE} SET "
                          "minx = NEW.minx, maxx = NEW.maxx, miny = NEW.miny, maxy = NEW.maxy "
                          "WHERE id = NEW.id; END",
    "leads_rtree_delete": f"AFTER DELETE ON leads BEGIN DELETE FROM {TABLE} WHERE id = OLD.id; END",
}


def _rtree(bind: sa.Connection) -> bool:
    if bind.dialect.name != "sqlite":
        return False
    return bind.execute(sa.text(
        "SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_RTREE'")).first() is not None


def upgrade() -> None:
    if not _rtree(op.get_bind()):
        return
    op.execute(f"CREATE VIRTUAL TABLE {TABLE} USING rtree(id, {_BOUNDS})")
    op.execute(f"INSERT INTO {TABLE} (id, {_BOUNDS}) SELECT id, {_BOUNDS} FROM leads")
    for name, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
