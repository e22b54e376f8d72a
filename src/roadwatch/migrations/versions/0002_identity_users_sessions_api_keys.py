"""identity: users, login sessions with refresh tokens, API keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:46:39.857808
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_api_key",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_identity_api_key_key_hash")),
    )
    op.create_table(
        "identity_user",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=60), nullable=True),
        sa.Column("badge", sa.String(length=60), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_user")),
        sa.UniqueConstraint("email", name=op.f("uq_identity_user_email")),
    )
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.create_index("ix_identity_user_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_user_role"), ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_user_unit"), ["unit"], unique=False)

    op.create_table(
        "identity_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_user.id"],
            name=op.f("fk_identity_session_user_id_identity_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_session")),
    )
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "identity_refresh_token",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["identity_session.id"],
            name=op.f("fk_identity_refresh_token_session_id_identity_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_identity_refresh_token_token_hash")),
    )
    with op.batch_alter_table("identity_refresh_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_refresh_token_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_refresh_token_session_id"))

    op.drop_table("identity_refresh_token")
    with op.batch_alter_table("identity_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_session_user_id"))

    op.drop_table("identity_session")
    with op.batch_alter_table("identity_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_user_unit"))
        batch_op.drop_index(batch_op.f("ix_identity_user_role"))
        batch_op.drop_index("ix_identity_user_created_at")

    op.drop_table("identity_user")
    op.drop_table("identity_api_key")
