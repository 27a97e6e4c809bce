"""Scale-out: feed and chat leases, worker heartbeats, the shared send budget, handled updates.

* ``feeds`` and ``subscriptions`` get a lease (``claimed_until``, ``claim_token``,
  ``claimed_by``): a due feed is polled by one worker, a chat is served by one worker at a time;
* ``workers``: one row per running worker, its heartbeat and roles (``digestbot status``; a
  worker whose heartbeat stopped loses its leases at once instead of when they run out);
* ``send_budget``: the shared rate limit per bot token on PostgreSQL (GCRA, one row per key);
* ``handled_updates``: update ids already answered, so that an update handed out again after
  the update consumer died is not answered twice;
* ``ix_outbox_subscription_status``: the due items of one chat without reading its history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LEASED = ("feeds", "subscriptions")


def upgrade() -> None:
    for table in _LEASED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
            batch.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
            batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
    op.create_index(
        "ix_outbox_subscription_status",
        "outbox",
        ["subscription_id", "status", "not_before"],
        unique=False,
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=100), nullable=False),
        sa.Column("holds_updates", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_table(
        "send_budget",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_budget")),
    )
    op.create_table(
        "handled_updates",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index("ix_handled_updates_at", "handled_updates", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_handled_updates_at", table_name="handled_updates")
    op.drop_table("handled_updates")
    op.drop_table("send_budget")
    op.drop_table("workers")
    op.drop_index("ix_outbox_subscription_status", table_name="outbox")
    for table in _LEASED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("claimed_by")
            batch.drop_column("claim_token")
            batch.drop_column("claimed_until")
