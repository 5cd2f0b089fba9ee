"""Keys compare byte by byte (collation "C") on every entity table.

Rows are returned in key order; with the database's default collation that order was
the locale's (an ICU or en_US database puts "a|z" before "ab"), not the embedded
store's and Python's.  The unique key indexes are rebuilt in byte order.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from geo.entities import ENTITIES

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    for entity in ENTITIES.values():
        op.execute(f'ALTER TABLE "{entity.table}" ALTER COLUMN key TYPE text COLLATE "C"')


def downgrade() -> None:
    for entity in ENTITIES.values():
        op.execute(f'ALTER TABLE "{entity.table}" ALTER COLUMN key TYPE text COLLATE "default"')
