"""Cards as plain text, for the console adapter and ``digestbot preview --format text``."""

from __future__ import annotations

import textwrap

from digests.models import Card
from digests.render import hashtags, labels_for, meta_parts, reading_time, summary_text
from digests.textclean import clean_card

WIDTH = 88


def _fill(text: str, *, indent: str = "", first: str | None = None) -> str:
    return textwrap.fill(
        text,
        width=WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_card(card: Card) -> str:
    card = clean_card(card)  # the console is a terminal: an ESC from a feed must not reach it
    labels = labels_for(card)
    meta = [*meta_parts(card), *reading_time(card)]
    blocks = ["\n".join([card.title, " · ".join(meta), card.url])]
    if card.summary:
        blocks.append(_fill(summary_text(card)))
    if card.key_facts:
        facts = [_fill(fact, indent="    ", first="  • ") for fact in card.key_facts]
        blocks.append(labels.key_facts + "\n" + "\n".join(facts))
    if card.editors_note:
        blocks.append(_fill(labels.note(card.editors_note), indent="> "))
    tags = hashtags(card.topics)
    if tags:
        blocks.append(f"{labels.topics} " + " ".join(tags))
    return "\n\n".join(blocks)
