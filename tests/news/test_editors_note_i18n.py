"""Editor's notes labelled in the other languages of the feeds, with their own punctuation."""

from __future__ import annotations

import pytest

from digests.editors_note import split_editors_note
from digests.note_labels import LABELS, NEEDLES

BODY = ["Erster Absatz des Textes.", "第二段。"]

# (labelled paragraph, the note verbatim without its label)
LABELLED = {
    "en": ("Editor's note: The author is an economist.", "The author is an economist."),
    "zh": ("编者按：本文作者是经济学家。", "本文作者是经济学家。"),
    "zh-bracketed": ("（编者按：本文作者是经济学家。）", "本文作者是经济学家。"),
    "zh-brackets": ("【编者按】本文作者是经济学家。", "本文作者是经济学家。"),
    "zh-hant": ("編者按：本文作者是經濟學家。", "本文作者是經濟學家。"),
    "ja": ("【編集部より】本稿は筆者の見解です。", "本稿は筆者の見解です。"),
    "ja-colon": ("編集部注：本稿は筆者の見解です。", "本稿は筆者の見解です。"),
    "ko": ("편집자 주: 이 글은 필자의 견해입니다.", "이 글은 필자의 견해입니다."),
    "ko-brackets": ("[편집자주] 이 글은 필자의 견해입니다.", "이 글은 필자의 견해입니다."),
    "de": ("Anmerkung der Redaktion: Die Autorin ist Ökonomin.", "Die Autorin ist Ökonomin."),
    "de-short": ("Anm. d. Red.: Die Autorin ist Ökonomin.", "Die Autorin ist Ökonomin."),
    "fr-nbsp": ("Note de la rédaction\u00a0: L'auteure est agronome.", "L'auteure est agronome."),
    "fr-narrow": ("NDLR\u202f: L'auteure est agronome.", "L'auteure est agronome."),
    "es": ("Nota del editor: El autor es profesor.", "El autor es profesor."),
    "es-redaccion": ("Nota de la redacción: El autor es profesor.", "El autor es profesor."),
    "pt": ("Nota do editor: O autor é professor.", "O autor é professor."),
    "pt-redacao": ("Nota da redação: O autor é professor.", "O autor é professor."),
    "it": ("Nota della redazione: L'autore è un economista.", "L'autore è un economista."),
    "it-ndr": ("N.d.R.: L'autore è un economista.", "L'autore è un economista."),
    "ru": ("От редакции: Автор — урбанист.", "Автор — урбанист."),
    "ru-note": ("Примечание редакции: Автор — урбанист.", "Автор — урбанист."),
    "ar": ("ملاحظة المحرر: الكاتبة باحثة في الطاقة.", "الكاتبة باحثة في الطاقة."),
    "ar-space": ("ملاحظة المحرر : الكاتبة باحثة في الطاقة.", "الكاتبة باحثة في الطاقة."),
}


@pytest.mark.parametrize("case", list(LABELLED))
def test_note_at_the_top_and_at_the_end(case: str) -> None:
    labelled, note = LABELLED[case]
    assert split_editors_note([labelled, *BODY]) == (note, BODY)
    assert split_editors_note([*BODY, labelled]) == (note, BODY)


@pytest.mark.parametrize(
    "label", ["编者按：", "【編集部より】", "편집자 주:", "Note de la rédaction :", "От редакции"]
)
def test_label_alone_takes_the_next_paragraph(label: str) -> None:
    assert split_editors_note([label, "The note itself.", *BODY]) == ("The note itself.", BODY)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Die Anmerkung der Redaktion steht oben.",  # mentions the label, does not start with it
        "Как сообщили от редакции: ничего нового.",
        "我们读了编者按：很有意思。",
        "Redaktionsschluss: 18 Uhr.",
    ],
)
def test_false_friends_stay_in_the_text(paragraph: str) -> None:
    assert split_editors_note([paragraph, *BODY]) == (None, [paragraph, *BODY])


def test_the_languages_of_issue_8_have_labels_and_every_label_a_needle() -> None:
    assert {"en", "zh", "ja", "ko", "de", "fr", "es", "ru", "ar", "pt", "it"} <= set(LABELS)
    for labels in LABELS.values():
        for label in labels:
            assert any(needle in label.lower() for needle in NEEDLES), label
