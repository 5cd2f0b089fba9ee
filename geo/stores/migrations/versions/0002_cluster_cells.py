"""Kept cluster-cell counts for low-zoom point tiles.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "riskmap_cluster_spec",
        sa.Column("spec", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "riskmap_cluster_cell",
        sa.Column("spec", sa.Text, primary_key=True),
        sa.Column("z", sa.SmallInteger, primary_key=True),
        sa.Column("i", sa.BigInteger, primary_key=True),
        sa.Column("j", sa.BigInteger, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("counts", ARRAY(sa.BigInteger), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("riskmap_cluster_cell")
    op.drop_table("riskmap_cluster_spec")
