"""split_editors_note: a table of labels, separators, positions and false friends."""

from __future__ import annotations

import pytest

from digests.editors_note import split_editors_note

NOTE = "CGTN's First Voice provides instant commentary on breaking stories."
BODY = ["First paragraph of the piece.", "Second paragraph of the piece."]


@pytest.mark.parametrize(
    "labelled",
    [
        f"Editor's note: {NOTE}",
        f"Editor’s Note: {NOTE}",
        f"EDITOR'S NOTE: {NOTE}",
        f"Editors' note: {NOTE}",
        f"Editors’ Note: {NOTE}",
        f"Editors note: {NOTE}",
        f"Note from the editor: {NOTE}",
        f"Note from the editors: {NOTE}",
        f"Editor's note — {NOTE}",
        f"Editor's note – {NOTE}",
        f"Editor's note - {NOTE}",
        f"Editor's note -- {NOTE}",
        f"Editor's note:\u00a0{NOTE}",
        f"  Editor's note:   {NOTE}  ",
        f"**Editor's note:** {NOTE}",
        f"(Editor's note: {NOTE})",
        f"[Editor's Note: {NOTE}]",
    ],
)
def test_labels_and_separators_at_the_top(labelled: str) -> None:
    note, rest = split_editors_note([labelled, *BODY])
    assert note == NOTE
    assert rest == BODY


def test_note_at_the_bottom() -> None:
    note, rest = split_editors_note([*BODY, f"Editor's note: {NOTE}"])
    assert note == NOTE
    assert rest == BODY


def test_note_after_captions_in_the_middle_of_the_head() -> None:
    paragraphs = ["Flags of two nations. / CFP", f"Editor's note: {NOTE}", *BODY]
    note, rest = split_editors_note(paragraphs)
    assert note == NOTE
    assert rest == ["Flags of two nations. / CFP", *BODY]


@pytest.mark.parametrize("label", ["Editor's note:", "EDITOR'S NOTE", "Editor’s note —"])
def test_label_alone_takes_the_next_paragraph(label: str) -> None:
    note, rest = split_editors_note([label, NOTE, *BODY])
    assert note == NOTE
    assert rest == BODY


def test_note_is_verbatim_including_inner_punctuation() -> None:
    text = "This story was updated on Nov. 2 — see the correction below: (sic) “quoted”."
    note, _ = split_editors_note([f"Editor’s note: {text}", *BODY])
    assert note == text


def test_bracketed_note_keeps_inner_brackets() -> None:
    note, _ = split_editors_note(["(Editor's note: the author (a former envoy) writes.)"])
    assert note == "the author (a former envoy) writes."


@pytest.mark.parametrize(
    "paragraphs",
    [
        [],
        BODY,
        # false friends: the words appear, but not as a leading label
        ["As the editor's note at the top explains, the column is new.", *BODY],
        ["The editor's note: a history of margins.", *BODY],
        ["Editor's notes are a staple of print magazines.", *BODY],
        ["Editorial: the case for trade", *BODY],
        ["A note from the editor would have helped.", *BODY],
        # the label as the last paragraph, with nothing after it to be the note
        [*BODY, "Editor's note:"],
    ],
)
def test_no_note_is_invented(paragraphs: list[str]) -> None:
    note, rest = split_editors_note(paragraphs)
    assert note is None
    assert rest == paragraphs


def test_only_the_first_note_is_taken_and_input_is_not_mutated() -> None:
    paragraphs = [f"Editor's note: {NOTE}", *BODY, "Editor's note: a second one."]
    original = list(paragraphs)
    note, rest = split_editors_note(paragraphs)
    assert note == NOTE
    assert rest == [*BODY, "Editor's note: a second one."]
    assert paragraphs == original
