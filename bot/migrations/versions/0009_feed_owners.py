"""Feeds added from chats (``/addfeed``): ``feed_owners`` (which chats own which feed) and an
index on ``feeds.origin`` (the chat feeds, whose cards only their owners see).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_owners",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name="fk_feed_owners_feed_id_feeds", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_feed_owners_subscription_id_subscriptions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feed_id", "subscription_id", name="pk_feed_owners"),
    )
    op.create_index("ix_feed_owners_subscription_id", "feed_owners", ["subscription_id"])
    op.create_index("ix_feeds_origin", "feeds", ["origin"])


def downgrade() -> None:
    # Chat feeds have no owners without the table: they go with it (the operator's stay).
    op.drop_index("ix_feeds_origin", table_name="feeds")
    op.drop_index("ix_feed_owners_subscription_id", table_name="feed_owners")
    op.drop_table("feed_owners")
    op.execute("DELETE FROM feeds WHERE origin = 'chat'")
