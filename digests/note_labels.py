"""The labels that open an editor's note, by language: data for :mod:`digests.editors_note`.

To add a language, add its labels here as written on the page, in any case (they are matched
case-insensitively, with any run of spaces, including non-breaking ones, where a label has a
space, and any apostrophe where it has one). The punctuation after a label (":", "：", " :"
with a non-breaking space, "—", a closing 【】 or [] bracket) is matched by
``digests.editors_note`` for every language, so it is not part of a label. ``NEEDLES`` are
fragments that any of these labels contains, used to find a note that the main-text
extraction left out of the text; a new label needs one of them, or a needle of its own.
"""

from __future__ import annotations

LABELS: dict[str, tuple[str, ...]] = {
    "en": (
        "editor's note",
        "editors' note",
        "editors note",
        "note from the editor",
        "note from the editors",
        "editorial note",
    ),
    "zh": ("编者按", "編者按", "编者的话", "编者注", "编辑注", "編輯按"),
    "ja": ("編集部より", "編集部注", "編集者注", "編集注", "編集部から"),
    "ko": ("편집자 주", "편집자주", "편집자 노트", "편집자의 말"),
    "de": (
        "Anmerkung der Redaktion",
        "Hinweis der Redaktion",
        "Anm. d. Red.",
        "Anmerkung d. Red.",
        "Redaktioneller Hinweis",
        "Vorbemerkung der Redaktion",
    ),
    "fr": ("Note de la rédaction", "Note de l'éditeur", "NDLR", "N.D.L.R.", "Note des éditeurs"),
    "es": (
        "Nota del editor",
        "Nota de la redacción",
        "Nota de los editores",
        "N. del E.",
        "N. de la R.",
    ),
    "pt": (
        "Nota do editor",
        "Nota da redação",
        "Nota da redacção",
        "Nota dos editores",
        "N. da R.",
    ),
    "it": ("Nota della redazione", "Nota del redattore", "Nota dell'editore", "N.d.R."),
    "ru": ("От редакции", "Примечание редакции", "Прим. ред.", "Примечание редактора"),
    "ar": ("ملاحظة المحرر", "ملاحظة من المحرر", "ملاحظة التحرير", "كلمة المحرر"),
}

# Lower-case fragments: one of them is in every label above (see the module docstring).
NEEDLES: tuple[str, ...] = (
    "editor",
    "编者",
    "編者",
    "编辑注",
    "編輯",
    "編集",
    "편집자",
    "redaktion",
    "red.",
    "rédaction",
    "ndlr",
    "n.d.l.r",
    "éditeur",
    "redacción",
    "nota de",
    "nota del",
    "n. del e",
    "n. de la r",
    "redação",
    "redacção",
    "nota do",
    "nota dos",
    "n. da r",
    "redazione",
    "redattore",
    "n.d.r",
    "редакци",
    "ред.",
    "редактор",
    "المحرر",
    "التحرير",
)
