"""analytics: numeric point copy, rollups, devices, rules and their state, alarms, comments

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_point",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "key", "ts", name=op.f("pk_analytics_point")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_rollup",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("resolution_s", sa.Integer(), nullable=False),
        sa.Column("bucket_ts", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("sum", sa.Float(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("m2", sa.Float(), nullable=False),
        sa.Column("first_ts", sa.BigInteger(), nullable=False),
        sa.Column("first", sa.Float(), nullable=False),
        sa.Column("last_ts", sa.BigInteger(), nullable=False),
        sa.Column("last", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "device_id", "key", "resolution_s", "bucket_ts", name=op.f("pk_analytics_rollup")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "analytics_device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_seen_ts", sa.BigInteger(), nullable=True),
        sa.Column("data_version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_device")),
    )
    op.create_table(
        "analytics_rule",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("alarm_type", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_rule")),
    )
    op.create_index("ix_analytics_rule_scope", "analytics_rule", ["scope", "scope_value", "key"])
    op.create_table(
        "analytics_rule_state",
        sa.Column("rule_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "device_id", name=op.f("pk_analytics_rule_state")),
    )
    op.create_table(
        "analytics_alarm",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("originator_type", sa.String(length=40), nullable=False),
        sa.Column("originator_id", sa.String(length=36), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=36), nullable=True),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("open_key", sa.String(length=140), nullable=True),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("ack_ts", sa.BigInteger(), nullable=True),
        sa.Column("clear_ts", sa.BigInteger(), nullable=True),
        sa.Column("assignee_id", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_alarm")),
        sa.UniqueConstraint("open_key", name=op.f("uq_analytics_alarm_open_key")),
    )
    op.create_index("ix_analytics_alarm_originator_id", "analytics_alarm", ["originator_id"])
    op.create_index("ix_analytics_alarm_status", "analytics_alarm", ["status"])
    op.create_index("ix_analytics_alarm_created_at", "analytics_alarm", ["created_at"])
    op.create_table(
        "analytics_alarm_comment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("alarm_id", sa.String(length=36), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_alarm_comment")),
    )
    op.create_index("ix_analytics_alarm_comment_alarm_id", "analytics_alarm_comment", ["alarm_id"])


def downgrade() -> None:
    op.drop_table("analytics_alarm_comment")
    op.drop_table("analytics_alarm")
    op.drop_table("analytics_rule_state")
    op.drop_index("ix_analytics_rule_scope", table_name="analytics_rule")
    op.drop_table("analytics_rule")
    op.drop_table("analytics_device")
    op.drop_table("analytics_rollup")
    op.drop_table("analytics_point")
