"""traffic: incident detections and the AID algorithms' state per station pair

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traffic_detection",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.String(length=80), nullable=False),
        sa.Column("upstream_device_id", sa.String(length=36), nullable=False),
        sa.Column("downstream_device_id", sa.String(length=36), nullable=False),
        sa.Column("segment_id", sa.String(length=64), nullable=False),
        sa.Column("offset_m", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("road_class", sa.String(length=32), nullable=False),
        sa.Column("lanes", sa.JSON(), nullable=True),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("onset_ts", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_ts", sa.BigInteger(), nullable=True),
        sa.Column("cleared_ts", sa.BigInteger(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("dismissed_by", sa.String(length=80), nullable=True),
        sa.Column("dismissed_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_detection")),
    )
    op.create_index("ix_traffic_detection_algorithm", "traffic_detection", ["algorithm"])
    op.create_index("ix_traffic_detection_pair_id", "traffic_detection", ["pair_id"])
    op.create_index("ix_traffic_detection_segment_id", "traffic_detection", ["segment_id"])
    op.create_index("ix_traffic_detection_phase", "traffic_detection", ["phase"])
    op.create_index("ix_traffic_detection_onset_ts", "traffic_detection", ["onset_ts"])
    op.create_index(
        "ix_traffic_detection_pair_algorithm", "traffic_detection", ["pair_id", "algorithm"]
    )
    op.create_table(
        "traffic_aid_pair_state",
        sa.Column("pair_id", sa.String(length=80), nullable=False),
        sa.Column("algorithm", sa.String(length=32), nullable=False),
        sa.Column("last_end_ts", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("detection_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("pair_id", "algorithm", name=op.f("pk_traffic_aid_pair_state")),
    )


def downgrade() -> None:
    op.drop_table("traffic_aid_pair_state")
    op.drop_index("ix_traffic_detection_pair_algorithm", table_name="traffic_detection")
    op.drop_index("ix_traffic_detection_onset_ts", table_name="traffic_detection")
    op.drop_index("ix_traffic_detection_phase", table_name="traffic_detection")
    op.drop_index("ix_traffic_detection_segment_id", table_name="traffic_detection")
    op.drop_index("ix_traffic_detection_pair_id", table_name="traffic_detection")
    op.drop_index("ix_traffic_detection_algorithm", table_name="traffic_detection")
    op.drop_table("traffic_detection")
