"""telemetry: device attributes with history, RPC calls, device activity and status

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:21:10.902046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telemetry_attribute",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("updated_ts", sa.BigInteger(), nullable=False),
        sa.Column("bool_v", sa.Boolean(), nullable=True),
        sa.Column("long_v", sa.BigInteger(), nullable=True),
        sa.Column("dbl_v", sa.Float(), nullable=True),
        sa.Column("str_v", sa.Text(), nullable=True),
        sa.Column("json_v", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "scope", "key", name=op.f("pk_telemetry_attribute")),
    )
    op.create_table(
        "telemetry_attribute_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("changed_ts", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("bool_v", sa.Boolean(), nullable=True),
        sa.Column("long_v", sa.BigInteger(), nullable=True),
        sa.Column("dbl_v", sa.Float(), nullable=True),
        sa.Column("str_v", sa.Text(), nullable=True),
        sa.Column("json_v", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_attribute_history")),
    )
    with op.batch_alter_table("telemetry_attribute_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_telemetry_attribute_history_lookup",
            ["device_id", "scope", "key", "changed_ts"],
            unique=False,
        )

    op.create_table(
        "telemetry_rpc",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=255), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("oneway", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_ts", sa.BigInteger(), nullable=False),
        sa.Column("expires_ts", sa.BigInteger(), nullable=False),
        sa.Column("sent_ts", sa.BigInteger(), nullable=True),
        sa.Column("delivered_ts", sa.BigInteger(), nullable=True),
        sa.Column("replied_ts", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_rpc")),
        sa.UniqueConstraint("device_id", "request_id", name=op.f("uq_telemetry_rpc_device_id")),
    )
    with op.batch_alter_table("telemetry_rpc", schema=None) as batch_op:
        batch_op.create_index("ix_telemetry_rpc_expiry", ["status", "expires_ts"], unique=False)
        batch_op.create_index("ix_telemetry_rpc_pending", ["device_id", "status"], unique=False)

    with op.batch_alter_table("telemetry_device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_activity_ts", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("online", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("rpc_seq", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_index(
            "ix_telemetry_device_online", ["online", "last_activity_ts"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("telemetry_device", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_device_online")
        batch_op.drop_column("rpc_seq")
        batch_op.drop_column("online")
        batch_op.drop_column("last_activity_ts")

    with op.batch_alter_table("telemetry_rpc", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_rpc_pending")
        batch_op.drop_index("ix_telemetry_rpc_expiry")

    op.drop_table("telemetry_rpc")
    with op.batch_alter_table("telemetry_attribute_history", schema=None) as batch_op:
        batch_op.drop_index("ix_telemetry_attribute_history_lookup")

    op.drop_table("telemetry_attribute_history")
    op.drop_table("telemetry_attribute")
