"""Find a piece's editor's note among its paragraphs and lift it out verbatim.

Opinion sites put a short note from the editors at the top or the bottom of a piece
("Editor's note: CGTN's First Voice provides instant commentary..."). The card shows it on its
own, so it is split from the body text. Only a paragraph that *starts* with the label counts;
a sentence that mentions "the editor's note" somewhere inside is ordinary text.
"""

from __future__ import annotations

import re

# "Editor's note", "Editor’s Note", "EDITOR'S NOTE", "Editors' note", "Editors note",
# "Note from the editor(s)", optionally inside an opening bracket and with emphasis asterisks
# left over from Markdown-ish conversions.
_LABEL = r"(?:editor(?:['’`]s|s['’`]?)\s+note|note\s+from\s+the\s+editors?|editorial\s+note)"
_OPEN = r"^\s*(?P<open>[(\[])?\s*\**\s*"
_SEPARATOR = r"\s*\**\s*(?:[:—–]|-{1,2})\s*\**\s*"
_NOTE_WITH_TEXT = re.compile(_OPEN + _LABEL + _SEPARATOR + r"(?P<text>\S.*)$", re.I | re.S)
_LABEL_ALONE = re.compile(_OPEN + _LABEL + r"\s*\**\s*[:—–-]?\s*\**\s*(?P<close>[)\]])?\s*$", re.I)
_CLOSERS = {"(": ")", "[": "]"}


def split_editors_note(paragraphs: list[str]) -> tuple[str | None, list[str]]:
    """Return ``(note, remaining_paragraphs)``; ``note`` is ``None`` when there is none.

    The note is the text after its label, verbatim apart from surrounding whitespace (and the
    closing bracket when the whole note was bracketed). A paragraph holding only the label
    ("Editor's note:") takes the next paragraph as the note.
    """
    for index, paragraph in enumerate(paragraphs):
        match = _NOTE_WITH_TEXT.match(paragraph)
        if match:
            note = _strip_brackets(match.group("text").strip(), match.group("open"))
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
