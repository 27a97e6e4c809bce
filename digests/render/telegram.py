"""Cards as Telegram HTML (``parse_mode=HTML``), within Telegram's 4096-character limit.

Every piece of feed text goes through :func:`html.escape` here and nowhere else, and only tags
Telegram accepts are written (``b``, ``i``, ``a href``, ``blockquote``). Shortening works on
the plain text *before* escaping, so a cut can never land inside a tag or an entity.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from digests.models import Card
from digests.render import (
    hashtags,
    is_web_url,
    labels_for,
    meta_parts,
    reading_time,
    shorten,
    shorten_lines,
    summary_text,
    utf16_len,
)
from digests.textclean import clean_card

MESSAGE_LIMIT = 4096  # Telegram's limit for one text message, in UTF-16 code units
CARD_SEPARATOR = "\n\n"
BULLET = "• "
_MIN_TITLE = 80  # a shortened title keeps at least this much


@dataclass(frozen=True, slots=True)
class RenderedText:
    """One Telegram message: ``text`` (HTML), the same cards as ``plain`` text for the
    "can't parse entities" fallback, and which cards of the digest it carries."""

    text: str
    card_indexes: tuple[int, ...]
    plain: str = ""


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _html(card: Card, *, link: bool) -> str:
    title = _esc(card.title)
    head = f'<b><a href="{_attr(card.url)}">{title}</a></b>' if link else f"<b>{title}</b>"
    labels = labels_for(card)
    meta = [*meta_parts(card), *reading_time(card)]
    blocks = [f"{head}\n<i>{_esc(' · '.join(meta))}</i>"]
    if card.summary:
        blocks.append(_esc(summary_text(card)))
    if card.key_facts:
        facts = "\n".join(BULLET + _esc(fact) for fact in card.key_facts)
        blocks.append(f"<b>{_esc(labels.key_facts)}</b>\n{facts}")
    if card.editors_note:
        note = _esc(card.editors_note)
        label = f"<b>{_esc(labels.editors_note)}</b>{labels.note_gap}"
        blocks.append(f"<blockquote>{label}{note}</blockquote>")
    tags = hashtags(card.topics)
    if tags:
        blocks.append(_esc(" ".join(tags)))
    return "\n\n".join(blocks)


def _plain(card: Card, *, link: bool) -> str:
    labels = labels_for(card)
    meta = [*meta_parts(card), *reading_time(card)]
    head = [card.title, " · ".join(meta)]
    if link:
        head.append(card.url)
    blocks = ["\n".join(head)]
    if card.summary:
        blocks.append(summary_text(card))
    if card.key_facts:
        blocks.append(labels.key_facts + "\n" + "\n".join(BULLET + f for f in card.key_facts))
    if card.editors_note:
        blocks.append(labels.note(card.editors_note))
    tags = hashtags(card.topics)
    if tags:
        blocks.append(" ".join(tags))
    return "\n\n".join(blocks)


def _capped(card: Card, cap: int) -> Card:
    """The card with each long field cut to about ``cap`` characters (0 drops the field)."""
    return replace(
        card,
        title=shorten(card.title, max(cap, _MIN_TITLE)),
        source=shorten(card.source, max(cap, _MIN_TITLE)) if card.source else None,
        author=shorten(card.author, max(cap, _MIN_TITLE)) if card.author else None,
        summary=shorten_lines(card.summary, cap) if cap > 0 else (),
        key_facts=shorten_lines(card.key_facts, cap) if cap > 0 else (),
        editors_note=shorten(card.editors_note, cap) if card.editors_note and cap > 0 else None,
    )


def _fitted(card: Card, fits: Callable[[Card], bool]) -> Card:
    """The longest version of ``card`` (by a per-field character cap) that ``fits``."""
    if fits(card):
        return card
    longest = max(
        len(card.title),
        len(card.source or ""),
        len(card.author or ""),
        sum(map(len, card.summary)),
        sum(map(len, card.key_facts)),
        len(card.editors_note or ""),
    )
    low, high = 0, longest  # invariant: cap ``high`` is known too long, or untested
    if not fits(_capped(card, 0)):
        bare = replace(_capped(card, 0), topics=())
        return bare if fits(bare) else replace(bare, title=shorten(bare.title, 40))
    while low < high:
        mid = (low + high + 1) // 2
        if fits(_capped(card, mid)):
            low = mid
        else:
            high = mid - 1
    return _capped(card, low)


def _wants_link(card: Card) -> bool:
    # A URL so long that it alone nears the limit is shown nowhere rather than cut.
    return is_web_url(card.url) and len(card.url) <= MESSAGE_LIMIT // 2


def _fit_for_message(card: Card, limit: int) -> tuple[Card, bool]:
    card = clean_card(card)  # cards stored before cleaning existed, or built elsewhere
    link = _wants_link(card)

    def fits(c: Card) -> bool:
        return max(utf16_len(_html(c, link=link)), utf16_len(_plain(c, link=link))) <= limit

    return _fitted(card, fits), link


def render_card(card: Card) -> str:
    """One card as Telegram HTML, shortened if needed to fit one message."""
    fitted, link = _fit_for_message(card, MESSAGE_LIMIT)
    return _html(fitted, link=link)


def render_plain(card: Card) -> str:
    """The same card without markup, for when Telegram refuses the HTML."""
    fitted, link = _fit_for_message(card, MESSAGE_LIMIT)
    return _plain(fitted, link=link)


def render_digest(cards: Sequence[Card]) -> list[RenderedText]:
    """Cards packed into as few messages as fit, split only between cards."""
    messages: list[RenderedText] = []
    html_parts: list[str] = []
    plain_parts: list[str] = []
    indexes: list[int] = []

    def flush() -> None:
        if indexes:
            messages.append(
                RenderedText(
                    text=CARD_SEPARATOR.join(html_parts),
                    card_indexes=tuple(indexes),
                    plain=CARD_SEPARATOR.join(plain_parts),
                )
            )
        html_parts.clear()
        plain_parts.clear()
        indexes.clear()

    used = 0  # UTF-16 length of the larger of the two joined texts so far; lengths add up
    for index, card in enumerate(cards):
        fitted, link = _fit_for_message(card, MESSAGE_LIMIT)
        card_html, card_plain = _html(fitted, link=link), _plain(fitted, link=link)
        size = max(utf16_len(card_html), utf16_len(card_plain))
        if indexes and used + len(CARD_SEPARATOR) + size > MESSAGE_LIMIT:
            flush()
        used = used + len(CARD_SEPARATOR) + size if indexes else size
        html_parts.append(card_html)
        plain_parts.append(card_plain)
        indexes.append(index)
    flush()
    return messages
