"""Latest cards without reading every card: an index in ``/digest`` order, and the article text
dropped from cards stored before the store stopped keeping it.

* ``ix_cards_published_at_id``: ``latest_cards`` walks it newest first and stops after the
  ``LIMIT``, instead of sorting every stored card;
* cards written before the text was dropped still carried ~6 KB of article text in ``data``
  that nothing reads; it is removed in place.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cards_published_at_id", "cards", ["published_at", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            sa.text(
                "UPDATE cards SET data = (data::jsonb - 'text')::json "
                "WHERE (data::jsonb) ? 'text'"
            )
        )
    else:
        op.execute(
            sa.text(
                "UPDATE cards SET data = json_remove(data, '$.text') "
                "WHERE json_type(data, '$.text') IS NOT NULL"
            )
        )


def downgrade() -> None:
    op.drop_index("ix_cards_published_at_id", table_name="cards")
