"""platform outbox and inbox, devices registry

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:08:56.720915
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devices_device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices_device")),
        sa.UniqueConstraint("name", name=op.f("uq_devices_device_name")),
    )
    with op.batch_alter_table("devices_device", schema=None) as batch_op:
        batch_op.create_index("ix_devices_device_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_devices_device_type"), ["type"], unique=False)

    op.create_table(
        "platform_inbox",
        sa.Column("group", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group", "event_id", name=op.f("pk_platform_inbox")),
    )
    op.create_table(
        "platform_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_platform_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_platform_outbox_event_id")),
    )
    with op.batch_alter_table("platform_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_outbox_unpublished", ["published_at", "seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("platform_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_outbox_unpublished")

    op.drop_table("platform_outbox")
    op.drop_table("platform_inbox")
    with op.batch_alter_table("devices_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_devices_device_type"))
        batch_op.drop_index("ix_devices_device_created_at")

    op.drop_table("devices_device")
