"""Initial schema: one table per entity, load batches, layer versions.

Revision ID: 0001
Revises:
"""

from alembic import op

from geo.stores.schema import TABLES, layer_versions, metadata

revision = "0001"
down_revision = None


def upgrade() -> None:
    bind = op.get_bind()
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    metadata.create_all(bind)
    op.bulk_insert(layer_versions, [{"kind": kind, "version": 0} for kind in TABLES])


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
