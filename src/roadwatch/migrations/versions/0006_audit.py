"""audit: the hash-chained event store, entity references, archived segments, device board

On PostgreSQL, triggers make the store append-only for every role, the application's own
included: UPDATE and TRUNCATE always fail, DELETE fails for any event not yet archived to a
segment (retention removes only archived ones).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64

PG_GUARDS = [
    """
    CREATE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND OLD.seq <= (
            SELECT coalesce(max(last_seq), 0) FROM audit_segment
        ) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION audit_event_guard()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_segment_no_change BEFORE UPDATE OR DELETE ON audit_segment
        FOR EACH ROW EXECUTE FUNCTION audit_append_only()
    """,
    """
    CREATE TRIGGER audit_segment_no_truncate BEFORE TRUNCATE ON audit_segment
        FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("entity_type", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=254), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=60), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_event_event_id")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity_type", "entity_id", "seq"])
        batch_op.create_index("ix_audit_event_actor", ["actor", "seq"])
        batch_op.create_index("ix_audit_event_type", ["type", "seq"])
        batch_op.create_index("ix_audit_event_source", ["source", "seq"])
        batch_op.create_index("ix_audit_event_correlation", ["correlation_id"])
        batch_op.create_index("ix_audit_event_occurred_at", ["occurred_at"])

    op.create_table(
        "audit_entity_ref",
        sa.Column("entity_type", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=254), nullable=False),
        sa.Column("seq", SEQ, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint(
            "entity_type", "entity_id", "seq", name=op.f("pk_audit_entity_ref")
        ),
    )
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    op.create_table(
        "audit_segment",
        sa.Column("first_seq", SEQ, autoincrement=False, nullable=False),
        sa.Column("last_seq", SEQ, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("first_seq", name=op.f("pk_audit_segment")),
    )
    op.create_table(
        "audit_device_board",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("has_credentials", sa.Boolean(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_activity_ts", sa.BigInteger(), nullable=True),
        sa.Column("seq", SEQ, nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_audit_device_board")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_GUARDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_segment_no_truncate ON audit_segment")
        op.execute("DROP TRIGGER IF EXISTS audit_segment_no_change ON audit_segment")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_event_guard()")
    op.drop_table("audit_device_board")
    op.drop_table("audit_segment")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_entity_ref")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        for name in (
            "ix_audit_event_occurred_at",
            "ix_audit_event_correlation",
            "ix_audit_event_source",
            "ix_audit_event_type",
            "ix_audit_event_actor",
            "ix_audit_event_entity",
        ):
            batch_op.drop_index(name)
    op.drop_table("audit_event")
