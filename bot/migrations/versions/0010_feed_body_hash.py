"""Unchanged feeds without validators; due feeds and changed subscriptions found without a
scan.

* ``feeds.body_hash``: a digest of the feed's last body, so that a server that sends neither
  ETag nor Last-Modified (or a new ETag for the same document) is not parsed again when the
  body is the same;
* ``ix_feeds_next_poll_at_id``: claiming due feeds walks the index earliest first and stops
  after the claim's ``LIMIT``, instead of sorting every feed on each claim;
* ``ix_subscriptions_updated_at``: the poller's subscription index re-reads only the
  subscriptions changed since it last looked (``bot/subscription_sync.py``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("body_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_feeds_next_poll_at_id", "feeds", ["next_poll_at", "id"], unique=False)
    op.create_index(
        "ix_subscriptions_updated_at", "subscriptions", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_updated_at", table_name="subscriptions")
    op.drop_index("ix_feeds_next_poll_at_id", table_name="feeds")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("body_hash")
