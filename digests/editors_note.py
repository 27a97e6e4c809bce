"""Find a piece's editor's note among its paragraphs and lift it out verbatim.

Opinion sites put a short note from the editors at the top or the bottom of a piece
("Editor's note: CGTN's First Voice provides instant commentary...", "编者按：...",
"【編集部より】...", "Note de la rédaction : ..."). The card shows it on its own, so it is split
from the body text. The labels, by language, are data in :mod:`digests.note_labels`. Only a
paragraph that *starts* with a label counts; a sentence that mentions "the editor's note"
somewhere inside is ordinary text.
"""

from __future__ import annotations

import re

from digests.note_labels import LABELS


def _label_pattern(label: str) -> str:
    parts = []
    for char in label:
        if char == " ":
            parts.append(r"\s+")
        elif char in "'’":
            parts.append("['’`]")
        elif char == ".":
            parts.append(r"\.\s*")
        else:
            parts.append(re.escape(char))
    return "".join(parts).replace(r"\.\s*\s+", r"\.\s*")


# Longest first, so that a label is never cut short by another that begins it.
_LABEL = "(?:{})".format(
    "|".join(
        _label_pattern(label)
        for label in sorted(
            {label for labels in LABELS.values() for label in labels}, key=len, reverse=True
        )
    )
)
# Optionally inside an opening bracket and with emphasis asterisks left over from Markdown-ish
# conversions. \s also matches the non-breaking space French puts before its colon.
_OPEN = r"^\s*(?P<open>[(\[（【〔])?\s*\**\s*"
_SEPARATOR = r"\s*\**\s*(?:[:：—–]|-{1,2}|(?P<shut>[)\]）】〕]))\s*\**\s*"
_NOTE_WITH_TEXT = re.compile(_OPEN + _LABEL + _SEPARATOR + r"(?P<text>\S.*)$", re.I | re.S)
_LABEL_ALONE = re.compile(
    _OPEN + _LABEL + r"\s*\**\s*[:：—–-]?\s*\**\s*(?P<close>[)\]）】〕])?\s*$", re.I
)
_CLOSERS = {"(": ")", "[": "]", "（": "）", "【": "】", "〔": "〕"}


def split_editors_note(paragraphs: list[str]) -> tuple[str | None, list[str]]:
    """Return ``(note, remaining_paragraphs)``; ``note`` is ``None`` when there is none.

    The note is the text after its label, verbatim apart from surrounding whitespace (and the
    closing bracket when the whole note was bracketed). A paragraph holding only the label
    ("Editor's note:") takes the next paragraph as the note.
    """
    for index, paragraph in enumerate(paragraphs):
        match = _NOTE_WITH_TEXT.match(paragraph)
        if match:
            # 【編集部より】 brackets the label alone; "(Editor's note: ...)" the whole note.
            opener = None if match.group("shut") else match.group("open")
            note = _strip_brackets(match.group("text").strip(), opener)
            if note:
                return note, paragraphs[:index] + paragraphs[index + 1 :]
        if _LABEL_ALONE.match(paragraph) and index + 1 < len(paragraphs):
            note = paragraphs[index + 1].strip()
            if note:
                return note, paragraphs[:index] + paragraphs[index + 2 :]
    return None, list(paragraphs)


def _strip_brackets(text: str, opener: str | None) -> str:
    if opener and text.endswith(_CLOSERS[opener]):
        return text[:-1].rstrip()
    return text
