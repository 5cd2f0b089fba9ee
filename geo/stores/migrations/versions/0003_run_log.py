"""The run log; area results lose their per-row parameters and their geography index.

Each area-risk run wrote the same 1.3 KB of parameters on every result row (5 MB for
an H3 run) and kept a geography index no query uses; the parameters now sit once per
run in ``riskmap_runs``.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "riskmap_runs",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("run_at", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
    )
    # 0001 builds the tables from the live entities: on a new database these are gone already.
    op.execute("DROP INDEX IF EXISTS area_results_geog_idx")
    op.execute("ALTER TABLE area_results DROP COLUMN IF EXISTS params")


def downgrade() -> None:
    op.execute("ALTER TABLE area_results ADD COLUMN IF NOT EXISTS params text")
    op.execute("CREATE INDEX IF NOT EXISTS area_results_geog_idx ON area_results USING gist ((geom::geography))")
    op.drop_table("riskmap_runs")
