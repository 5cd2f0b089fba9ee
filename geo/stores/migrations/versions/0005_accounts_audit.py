"""Accounts and the tamper-evident audit log: users, API tokens, failed sign-ins, audit entries.

The audit log is append-only: a trigger raises on UPDATE, DELETE and TRUNCATE (for every
role, the owner too; only ``ALTER TABLE … DISABLE TRIGGER`` by the owner or a superuser
gets past it, and the hash chain shows what was then changed), and PUBLIC has no rights
on it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"

_TIME = sa.DateTime(timezone=True)

_APPEND_ONLY = """
CREATE FUNCTION riskmap_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'riskmap_audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "riskmap_users",
        sa.Column("name", sa.Text(collation="C"), primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("scope", ARRAY(sa.Text), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_table(
        "riskmap_api_tokens",
        sa.Column("token_id", sa.Text(collation="C"), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text(collation="C"), sa.ForeignKey("riskmap_users.name"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("scope", ARRAY(sa.Text), nullable=False),
        sa.Column("secret_sha256", sa.Text, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME),
        sa.Column("last_used_at", _TIME),
        sa.Column("revoked_at", _TIME),
    )
    op.create_index("ix_riskmap_api_tokens_user_name", "riskmap_api_tokens", ["user_name"])
    op.create_table(
        "riskmap_login_failures",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", _TIME),
        sa.Column("locked_until", _TIME),
    )
    _create_audit_log()


def _create_audit_log() -> None:
    op.create_table(
        "riskmap_audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("remote", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    for column in ("at", "actor", "action"):
        op.create_index(f"ix_riskmap_audit_log_{column}", "riskmap_audit_log", [column])
    op.execute(_APPEND_ONLY)
    op.execute("CREATE TRIGGER riskmap_audit_log_no_change BEFORE UPDATE OR DELETE ON riskmap_audit_log"
               " FOR EACH ROW EXECUTE FUNCTION riskmap_audit_log_append_only()")
    op.execute("CREATE TRIGGER riskmap_audit_log_no_truncate BEFORE TRUNCATE ON riskmap_audit_log"
               " FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit_log_append_only()")
    op.execute("REVOKE ALL ON riskmap_audit_log FROM PUBLIC")


def downgrade() -> None:
    op.drop_table("riskmap_audit_log")
    op.execute("DROP FUNCTION riskmap_audit_log_append_only()")
    op.drop_table("riskmap_login_failures")
    op.drop_table("riskmap_api_tokens")
    op.drop_table("riskmap_users")
