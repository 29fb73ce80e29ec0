"""On PostgreSQL with PostGIS: leads get a real geometry column with a spatial (GiST) index.

``leads.geom`` (``geometry(Geometry, 4326)``, GeoAlchemy2) is filled from ``geom_wkb`` for the
leads already there and kept in step by a trigger on every insert or change of ``geom_wkb``,
so every write path (runs, reports from the ground, lifecycle) stays as it is. Matching a patch
to open leads then asks the index (:mod:`pipeline.ledger.matching`). Without PostGIS on the
server, and on SQLite, nothing changes: the bounding-box columns serve as before.

Revision ID: 0009
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION landpatrol_lead_geom() RETURNS trigger AS $$
BEGIN
    NEW.geom := ST_SetSRID(ST_GeomFromWKB(NEW.geom_wkb), 4326);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def _postgis(bind: sa.Connection) -> bool:
    if bind.dialect.name != "postgresql":
        return False
    available = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")).first()
    if available is None:
        return False
    installed = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first()
    if installed is None:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    return True


def upgrade() -> None:
    from geoalchemy2 import Geometry

    bind = op.get_bind()
    if not _postgis(bind):
        return
    op.add_column("leads", sa.Column("geom", Geometry("GEOMETRY", srid=4326,
                                                      spatial_index=False)))
    op.execute("UPDATE leads SET geom = ST_SetSRID(ST_GeomFromWKB(geom_wkb), 4326)")
    op.execute("CREATE INDEX ix_leads_geom ON leads USING GIST (geom)")
    op.execute(_FUNCTION)
    op.execute("CREATE TRIGGER leads_geom BEFORE INSERT OR UPDATE OF geom_wkb ON leads "
               "FOR EACH ROW EXECUTE FUNCTION landpatrol_lead_geom()")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS leads_geom ON leads")
    op.execute("DROP FUNCTION IF EXISTS landpatrol_lead_geom()")
    op.execute("DROP INDEX IF EXISTS ix_leads_geom")
    op.execute("ALTER TABLE leads DROP COLUMN IF EXISTS geom")
