"""traffic network: roads, segments, detectors, cameras, pending placements, known devices,
patrol units and their tracks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 18:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "traffic_road",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("road_class", sa.String(length=32), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_road")),
    )
    op.create_table(
        "traffic_segment",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("road_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("direction", sa.String(length=64), nullable=False),
        sa.Column("from_node", sa.String(length=64), nullable=False),
        sa.Column("to_node", sa.String(length=64), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("lanes", sa.Integer(), nullable=False),
        sa.Column("speed_limit_kmh", sa.Float(), nullable=False),
        sa.Column("free_flow_kmh", sa.Float(), nullable=False),
        sa.Column("capacity_vphpl", sa.Float(), nullable=True),
        sa.Column("road_class", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("upstream", sa.JSON(), nullable=False),
        sa.Column("downstream", sa.JSON(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_segment")),
    )
    op.create_index("ix_traffic_segment_road_id", "traffic_segment", ["road_id"])
    op.create_index("ix_traffic_segment_road_class", "traffic_segment", ["road_class"])
    op.create_index("ix_traffic_segment_status", "traffic_segment", ["status"])
    op.create_table(
        "traffic_detector",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=True),
        sa.Column("offset_m", sa.Float(), nullable=False),
        sa.Column("lanes", sa.Integer(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_traffic_detector")),
    )
    op.create_index("ix_traffic_detector_segment_id", "traffic_detector", ["segment_id"])
    op.create_table(
        "traffic_camera",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("offset_m", sa.Float(), nullable=False),
        sa.Column("heading_deg", sa.Float(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_traffic_camera")),
    )
    op.create_index("ix_traffic_camera_segment_id", "traffic_camera", ["segment_id"])
    op.create_table(
        "traffic_pending_placement",
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("lane", sa.Integer(), nullable=True),
        sa.Column("offset_m", sa.Float(), nullable=False),
        sa.Column("lanes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("device_name", name=op.f("pk_traffic_pending_placement")),
    )
    op.create_table(
        "traffic_device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_device")),
    )
    op.create_index("ix_traffic_device_name", "traffic_device", ["name"])
    op.create_table(
        "traffic_patrol_unit",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("call_sign", sa.String(length=32), nullable=False),
        sa.Column("vehicle", sa.String(length=120), nullable=False),
        sa.Column("officers", sa.JSON(), nullable=False),
        sa.Column("home_zone", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("position_ts", sa.BigInteger(), nullable=True),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_patrol_unit")),
        sa.UniqueConstraint("call_sign", name=op.f("uq_traffic_patrol_unit_call_sign")),
        sa.UniqueConstraint("device_id", name=op.f("uq_traffic_patrol_unit_device_id")),
    )
    op.create_index("ix_traffic_patrol_unit_status", "traffic_patrol_unit", ["status"])
    op.create_table(
        "traffic_patrol_track",
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("speed_kmh", sa.Float(), nullable=True),
        sa.Column("heading_deg", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("unit_id", "ts", name=op.f("pk_traffic_patrol_track")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    for table in (
        "traffic_patrol_track",
        "traffic_patrol_unit",
        "traffic_device",
        "traffic_pending_placement",
        "traffic_camera",
        "traffic_detector",
        "traffic_segment",
        "traffic_road",
    ):
        op.drop_table(table)
