"""device access tokens; telemetry directory, points (partitioned on PostgreSQL), latest

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VALUE_COLUMNS = """
    bool_v boolean, long_v bigint, dbl_v double precision, str_v text, json_v text
"""


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("bool_v", sa.Boolean(), nullable=True),
        sa.Column("long_v", sa.BigInteger(), nullable=True),
        sa.Column("dbl_v", sa.Float(), nullable=True),
        sa.Column("str_v", sa.Text(), nullable=True),
        sa.Column("json_v", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("devices_device") as batch:
        batch.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("credentials_changed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_unique_constraint("uq_devices_device_token_hash", ["token_hash"])

    op.create_table(
        "telemetry_device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_device")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_telemetry_device_token_hash")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # range-partitioned by day (telemetry/partitions.py makes the days); the default
        # partition takes back-filled points older than the first day made
        op.execute(
            f"""
            CREATE TABLE telemetry_ts (
                device_id varchar(36) NOT NULL, key varchar(255) NOT NULL, ts bigint NOT NULL,
                {VALUE_COLUMNS},
                CONSTRAINT pk_telemetry_ts PRIMARY KEY (device_id, key, ts)
            ) PARTITION BY RANGE (ts)
            """
        )
        op.execute("CREATE TABLE telemetry_ts_default PARTITION OF telemetry_ts DEFAULT")
    else:
        op.create_table(
            "telemetry_ts",
            sa.Column("device_id", sa.String(length=36), nullable=False),
            sa.Column("key", sa.String(length=255), nullable=False),
            sa.Column("ts", sa.BigInteger(), nullable=False),
            *_value_columns(),
            sa.PrimaryKeyConstraint("device_id", "key", "ts", name=op.f("pk_telemetry_ts")),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "telemetry_latest",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        *_value_columns(),
        sa.PrimaryKeyConstraint("device_id", "key", name=op.f("pk_telemetry_latest")),
    )
    op.create_index("ix_telemetry_latest_key", "telemetry_latest", ["key"])


def downgrade() -> None:
    op.drop_index("ix_telemetry_latest_key", table_name="telemetry_latest")
    op.drop_table("telemetry_latest")
    op.execute("DROP TABLE telemetry_ts")
    op.drop_table("telemetry_device")
    with op.batch_alter_table("devices_device") as batch:
        batch.drop_constraint("uq_devices_device_token_hash", type_="unique")
        batch.drop_column("credentials_changed_at")
        batch.drop_column("token_hash")
