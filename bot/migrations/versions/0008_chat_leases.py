"""A chat's lease covers all its forum topics: the lease moves from ``subscriptions`` (one per
topic) to ``chat_leases`` (one per chat).

Two topics of one Telegram group are two subscriptions; leased one by one, two workers could
send to the group at the same moment and break its pace (20 messages a minute per group).
Leases are short-lived, so nothing is carried over: a worker running during the upgrade loses
its chat leases and takes them again.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-02 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_leases")),
        sa.UniqueConstraint("platform", "chat_id", name="uq_chat_leases_platform_chat"),
    )
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claim_token")
        batch.drop_column("claimed_until")


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
    op.drop_table("chat_leases")
