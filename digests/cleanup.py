"""Remove page furniture that survives main-text extraction, one pure step at a time.

Every step takes and returns a list of paragraphs, so each is table-tested alone and
:func:`clean_paragraphs` simply runs them in order. The rules are deliberately narrow: a line
is dropped only when it has a shape that prose practically never has (and, for most rules,
is short), because dropping a real paragraph costs more than keeping a stray widget line.
``bench/extraction.py`` measures that trade-off on real pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

Step = Callable[[list[str]], list[str]]

_SENTENCE_END = re.compile(r"[.!?…\"'”’)]$")
_PROSE_END = re.compile(r"[.!?…][\"'”’]?$")


def normalise(paragraph: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space.

    U+FFFD goes too: it marks bytes or character references that named no character (see
    ``digests.feeds.neutralise_char_refs``) and tells a reader nothing.
    """
    return " ".join(paragraph.replace("\ufffd", " ").split())


def _key(paragraph: str) -> str:
    return normalise(paragraph).casefold()


def _words(paragraph: str) -> int:
    return len(paragraph.split())


# --- cookie and consent banners ------------------------------------------------------------

_CONSENT_BUTTONS = re.compile(
    r"^(?:i agree|i accept|agree|accept|accept all|accept all cookies|accept cookies|"
    r"allow all|allow cookies|reject all|decline|got it|ok|okay|manage (?:cookie )?preferences|"
    r"cookie settings|manage cookies|customi[sz]e settings|agree and close|accept and close)"
    r"[.!]?$",
    re.I,
)
_CONSENT_PHRASES = re.compile(
    r"we use cookies|use of cookies|uses cookies|cookie policy|cookie settings|"
    r"cookie preferences|cookie notice|accept (?:all )?cookies|by continuing to (?:browse|use)|"
    r"consent to (?:the|our) use|you agree to (?:our|the) use|privacy statement",
)
_CONSENT_HINTS = ("cookie", "continuing", "consent", "agree", "privacy")


def _is_consent(paragraph: str) -> bool:
    if _CONSENT_BUTTONS.match(paragraph):
        return True
    if _words(paragraph) > 60:
        return False
    lowered = paragraph.lower()
    # plain substring tests first: the phrase regex is the slow part on long pages
    if not any(hint in lowered for hint in _CONSENT_HINTS):
        return False
    return _CONSENT_PHRASES.search(lowered) is not None


def drop_consent(paragraphs: list[str]) -> list[str]:
    """Cookie/consent banners and their buttons ("I agree", "Accept all cookies")."""
    return [p for p in paragraphs if not _is_consent(p)]


# --- image captions and credits ------------------------------------------------------------

_CREDIT_TAIL = re.compile(
    # "... of Korea. / CFP", "... in 2025. /Xinhua", "... Photo: AP / Reuters"
    r"\s/\s?(?:[A-Z][\w.&'-]*)(?:\s+(?:[A-Z][\w.&'-]*|via|for|of))*$"
    # "... (Photo: Xinhua)", "... (Photo by Jane Doe/AFP)", "[Photo/VCG]"; not "(Source: ...)",
    # which ends many a paragraph of figures
    r"|[(\[]\s*(?:photo|image|picture|file photo|credit)s?\b[^()\[\]]{0,80}[)\]]$"
    # "... Getty Images", "... AFP via Getty Images", "Photograph: X/Shutterstock"
    r"|\b(?:getty images|shutterstock|alamy|ap photo|reuters/[\w ]+)(?: for [\w ]+)?\.?$",
    re.I,
)
# "Photo: Jane Doe", "Image copyright AFP", "Image caption Protesters in ..."
_CREDIT_LABEL = re.compile(
    r"^\(?\s*(?:(?:photo|photograph|image|picture|file photo|photo credit|credit)s?\s*:"
    r"|image copyright\b|image caption\b|getty images$)",
    re.I,
)
# "Photo by Jane Doe/AFP", "Photo/VCG": only as a short line that is not a sentence, since
# "Pictures by amateur astronomers show..." starts many a sentence
_CREDIT_BYLINE = re.compile(r"^\(?\s*(?:photo|photograph|image|picture)s?\s*(?:by\b|/)", re.I)


def _is_caption(paragraph: str) -> bool:
    words = _words(paragraph)
    if words > 60:
        return False
    # Credits sit in a line's last few dozen characters; searching only there keeps the
    # end-anchored pattern from scanning whole paragraphs.
    if _CREDIT_TAIL.search(paragraph[-160:]) or _CREDIT_LABEL.match(paragraph):
        return True
    return (
        words <= 12
        and _CREDIT_BYLINE.match(paragraph) is not None
        and not _PROSE_END.search(paragraph)
    )


def drop_captions(paragraphs: list[str], known: Collection[str] = ()) -> list[str]:
    """Image captions: lines equal to a caption/alt text of the page, or shaped like a credit.

    ``known`` holds the page's own ``<figcaption>``/``alt`` texts (see ``digests.extract``).
    """
    known_keys = {_key(k) for k in known if _words(k) >= 3}
    kept = []
    for p in paragraphs:
        if _key(p) in known_keys:
            continue
        if _is_caption(p):
            continue
        kept.append(p)
    return kept


# --- repeats -------------------------------------------------------------------------------


def collapse_repeats(paragraphs: list[str], *, min_words: int = 25) -> list[str]:
    """Drop a paragraph that repeats the one before it (a caption printed two or three times),
    or repeats any earlier prose paragraph of at least ``min_words`` words (a body printed
    twice by a page that ships its AMP or teaser copy alongside).

    Other repeats further apart stay: recipes, product lists and Q&A legitimately repeat
    "Drink during your workout", "See it now: Amazon" or a whole list item.
    """
    seen_long: set[str] = set()
    kept: list[str] = []
    previous = None
    for p in paragraphs:
        key = _key(p)
        if key == previous or key in seen_long:
            continue
        previous = key
        if _words(p) >= min_words and _PROSE_END.search(p):
            seen_long.add(key)
        kept.append(p)
    return kept


# --- widgets: trending, most read, related, read more --------------------------------------

_WIDGET_HEADINGS = re.compile(
    r"^(?:search trends|trending(?: now| stories| topics| news)?|most (?:read|popular|viewed|"
    r"shared)(?: stories| articles)?|related(?: stories| articles| content| news| posts)?|"
    r"read (?:more|next)|more stories|more from [\w .&'-]{1,40}|recommended(?: for you| stories)?|"
    r"you (?:may|might) also like|editor'?s? picks|top stories|latest news|popular now|"
    r"don't miss|also read|see also)\s*:?$",
    re.I,
)
_INLINE_LINK_PROMPT = re.compile(
    r"^(?:read more|read next|related|see also|also read|recommended|watch|listen)\s*[:|»>-]\s*\S",
    re.I,
)


def _is_widget_item(paragraph: str) -> bool:
    return _words(paragraph) <= 15 and not _SENTENCE_END.search(paragraph)


def drop_widgets(paragraphs: list[str]) -> list[str]:
    """Widget headings ("Search Trends", "Most read", "Related", "Read more") with the run of
    short headline-like lines after them, and one-line "Read more: <headline>" prompts."""
    kept: list[str] = []
    in_widget = False
    for p in paragraphs:
        if _WIDGET_HEADINGS.match(p):
            in_widget = True
            continue
        if in_widget and _is_widget_item(p):
            continue
        in_widget = False
        if _INLINE_LINK_PROMPT.match(p) and _words(p) <= 30:
            continue
        kept.append(p)
    return kept


# --- newsletter sign-ups, share prompts, contributor footers -------------------------------

# Searched in lowercased text: case-insensitive alternations are slow over long pages.
_NEWSLETTER = re.compile(r"newsletter|to your inbox|mailing list|email updates")
_NEWSLETTER_ACTION = re.compile(r"sign[ -]?up|subscribe|enter your email|join")
_SHARE = re.compile(
    r"^(?:share(?: this)?(?: article| story| page| post)?|share on [\w ]+|click to share"
    r"(?: on [\w ]+)?|copy link|share via [\w ]+|tweet this|email this|print this)[.!:]?$",
    re.I,
)
_CONTRIBUTOR = re.compile(
    r"if you (?:want|would like|wish) to contribute|opinions@|"
    r"follow @\w+ on (?:x|twitter)|to discover the latest commentaries"
)


def drop_promotions(paragraphs: list[str]) -> list[str]:
    """Newsletter sign-ups, share prompts and "want to contribute? contact us" footers."""
    kept = []
    for p in paragraphs:
        words = _words(p)
        if words > 80:
            kept.append(p)
            continue
        lowered = p.lower()
        if words <= 40 and _NEWSLETTER.search(lowered) and _NEWSLETTER_ACTION.search(lowered):
            continue
        if words <= 8 and _SHARE.match(p):
            continue
        if _CONTRIBUTOR.search(lowered):
            continue
        kept.append(p)
    return kept


# --- the headline repeated at the top ------------------------------------------------------


def drop_leading_title(paragraphs: list[str], title: str | None) -> list[str]:
    """The headline, printed again as the first lines of the body."""
    if not title:
        return paragraphs
    title_key = _key(title)
    head = [p for p in paragraphs[:3] if _key(p) != title_key]
    return head + paragraphs[3:]


def clean_paragraphs(
    paragraphs: Sequence[str],
    *,
    captions: Collection[str] = (),
    title: str | None = None,
) -> list[str]:
    """Run every cleanup step in order; the result has no empty paragraphs."""
    result = [n for n in (normalise(p) for p in paragraphs) if n]
    steps: tuple[Step, ...] = (
        drop_consent,
        lambda ps: drop_captions(ps, captions),
        collapse_repeats,
        drop_widgets,
        drop_promotions,
        lambda ps: drop_leading_title(ps, title),
    )
    for step in steps:
        result = step(result)
    return result
