"""Forum topics and languages: subscriptions.thread (part of the chat's key) and
subscriptions.language.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("thread", sa.String(length=100), server_default="", nullable=False))
        batch.add_column(sa.Column("language", sa.String(length=10), nullable=True))
        batch.drop_constraint("uq_subscriptions_platform_chat", type_="unique")
        batch.create_unique_constraint(
            "uq_subscriptions_platform_chat_thread", ["platform", "chat_id", "thread"]
        )


def downgrade() -> None:
    # Topic subscriptions have no place in the old key (one per chat): they go.
    op.execute("DELETE FROM subscriptions WHERE thread <> ''")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint("uq_subscriptions_platform_chat_thread", type_="unique")
        batch.create_unique_constraint("uq_subscriptions_platform_chat", ["platform", "chat_id"])
        batch.drop_column("language")
        batch.drop_column("thread")
