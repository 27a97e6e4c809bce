"""LLM summaries: a cache of model summaries (and the guard's rejections) keyed by article
content hash, model and prompt version; a per-feed summary mode.

Revision ID: 0003
Revises: 0005 (which follows 0007; numbers are not the order: 0001, 0002, 0006, 0007, 0005,
0003, 0004)
Create Date: 2026-12-01 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_summaries",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("prompt_version", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_llm_summaries")),
    )
    op.create_index(
        "ix_llm_summaries_created_at", "llm_summaries", ["created_at"], unique=False
    )
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("summary_mode", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("summary_mode")
    op.drop_index("ix_llm_summaries_created_at", table_name="llm_summaries")
    op.drop_table("llm_summaries")
