"""traffic state: station samples, station models, segment state history and latest, cursor,
dirty intervals

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_station_sample",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("count", sa.Float(), nullable=True),
        sa.Column("occupancy_pct", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("lanes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "end_ts", name=op.f("pk_traffic_station_sample")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "traffic_station_model",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("g_m", sa.Float(), nullable=False),
        sa.Column("g_samples", sa.Integer(), nullable=False),
        sa.Column("ratios", sa.JSON(), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("latest_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_traffic_station_model")),
    )
    op.create_table(
        "traffic_segment_state",
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("flow_vph", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("speed_estimated", sa.Boolean(), nullable=False),
        sa.Column("occupancy_pct", sa.Float(), nullable=True),
        sa.Column("density_vpkm", sa.Float(), nullable=True),
        sa.Column("los", sa.String(length=1), nullable=True),
        sa.Column("congested", sa.Boolean(), nullable=False),
        sa.Column("travel_time_s", sa.Float(), nullable=True),
        sa.Column("tti", sa.Float(), nullable=True),
        sa.Column("imputed", sa.Boolean(), nullable=False),
        sa.Column("stations", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "segment_id", "interval_s", "end_ts", name=op.f("pk_traffic_segment_state")
        ),
    )
    # performance and the congestion map read every segment's intervals in a time range
    op.create_index(
        "ix_traffic_segment_state_interval_end",
        "traffic_segment_state",
        ["interval_s", "end_ts"],
    )
    op.create_table(
        "traffic_segment_latest",
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("flow_vph", sa.Float(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("speed_estimated", sa.Boolean(), nullable=False),
        sa.Column("occupancy_pct", sa.Float(), nullable=True),
        sa.Column("density_vpkm", sa.Float(), nullable=True),
        sa.Column("los", sa.String(length=1), nullable=True),
        sa.Column("congested", sa.Boolean(), nullable=False),
        sa.Column("travel_time_s", sa.Float(), nullable=True),
        sa.Column("tti", sa.Float(), nullable=True),
        sa.Column("imputed", sa.Boolean(), nullable=False),
        sa.Column("stations", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "interval_s", name=op.f("pk_traffic_segment_latest")),
    )
    op.create_table(
        "traffic_interval_cursor",
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("closed_until_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("interval_s", name=op.f("pk_traffic_interval_cursor")),
    )
    op.create_table(
        "traffic_dirty_interval",
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("interval_s", "end_ts", name=op.f("pk_traffic_dirty_interval")),
    )


def downgrade() -> None:
    op.drop_table("traffic_dirty_interval")
    op.drop_table("traffic_interval_cursor")
    op.drop_table("traffic_segment_latest")
    op.drop_index("ix_traffic_segment_state_interval_end", table_name="traffic_segment_state")
    op.drop_table("traffic_segment_state")
    op.drop_table("traffic_station_model")
    op.drop_table("traffic_station_sample")
