"""The few words a card adds around the article's own text, in the article's language.

A card is the article's: a Chinese piece reads as a Chinese card in every chat, whatever the
reader's language (the bot's replies follow the reader; see ``bot/i18n.py``). So the labels
a renderer writes, "Key facts", "Editor's note:", "3 min read", the date, come from the card's
language here, and a card whose language is unknown or not listed falls back to English.

This is data, not a translation catalog: the renderers live on the news side, which knows
nothing of the chat side's gettext domain, and these are a dozen fixed phrases per language.
To add a language, add one :class:`CardLabels` to ``LABELS`` under its primary subtag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class CardLabels:
    key_facts: str
    editors_note: str  # written before the note, with the language's own colon
    minutes_read: str  # ``{n}``: the reading time in minutes
    read_button: str  # Slack's button under the card
    topics: str  # the plain-text card's line of hashtags
    # ``{d}``/``{m}`` day and month, ``{dd}``/``{mm}`` zero-padded, ``{y}`` year, ``{mon}``
    # the English month's short name
    date: str

    def format_date(self, when: datetime) -> str:
        return self.date.format(
            d=when.day,
            m=when.month,
            dd=f"{when.day:02d}",
            mm=f"{when.month:02d}",
            y=when.year,
            mon=_EN_MONTHS[when.month - 1],
        )

    @property
    def note_gap(self) -> str:
        """What goes between the note's label and the note: a full-width colon (``编者按：``)
        carries its own space, so nothing is added after it."""
        return "" if self.editors_note.endswith("：") else " "

    def note(self, note: str) -> str:
        """The label and the note as one line."""
        return f"{self.editors_note}{self.note_gap}{note}"

    def reading_time(self, minutes: int) -> str:
        return self.minutes_read.format(n=minutes)


ENGLISH = CardLabels(
    key_facts="Key facts",
    editors_note="Editor's note:",
    minutes_read="{n} min read",
    read_button="Read the piece",
    topics="Topics:",
    date="{d} {mon} {y}",
)

# Dates are written the way each language writes them in running text, with numbers only
# (no month names to decline), padded where the language pads them.
LABELS: dict[str, CardLabels] = {
    "en": ENGLISH,
    "de": CardLabels(
        "Die wichtigsten Fakten",
        "Anmerkung der Redaktion:",
        "{n} Min. Lesezeit",
        "Zum Artikel",
        "Themen:",
        "{dd}.{mm}.{y}",
    ),
    "fr": CardLabels(
        "Les faits clés",
        "Note de la rédaction\u00a0:",
        "{n}\u00a0min de lecture",
        "Lire l'article",
        "Thèmes\u00a0:",
        "{dd}/{mm}/{y}",
    ),
    "es": CardLabels(
        "Datos clave",
        "Nota del editor:",
        "{n} min de lectura",
        "Leer el artículo",
        "Temas:",
        "{dd}/{mm}/{y}",
    ),
    "pt": CardLabels(
        "Dados principais",
        "Nota do editor:",
        "{n} min de leitura",
        "Ler o artigo",
        "Temas:",
        "{dd}/{mm}/{y}",
    ),
    "it": CardLabels(
        "I fatti principali",
        "Nota della redazione:",
        "{n} min di lettura",
        "Leggi l'articolo",
        "Temi:",
        "{dd}/{mm}/{y}",
    ),
    "ru": CardLabels(
        "Ключевые факты",
        "От редакции:",
        "{n} мин чтения",
        "Читать статью",
        "Темы:",
        "{dd}.{mm}.{y}",
    ),
    "uk": CardLabels(
        "Ключові факти",
        "Від редакції:",
        "{n} хв читання",
        "Читати статтю",
        "Теми:",
        "{dd}.{mm}.{y}",
    ),
    "tr": CardLabels(
        "Öne çıkan bilgiler",
        "Editörün notu:",
        "{n} dk okuma",
        "Yazıyı oku",
        "Konular:",
        "{dd}.{mm}.{y}",
    ),
    "zh": CardLabels(
        "关键事实", "编者按：", "阅读约 {n} 分钟", "阅读全文", "话题：", "{y}年{m}月{d}日"
    ),
    "ja": CardLabels(
        "主な事実", "編集部より：", "{n}分で読めます", "記事を読む", "トピック：", "{y}年{m}月{d}日"
    ),
    "ko": CardLabels(
        "핵심 사실", "편집자 주:", "{n}분 분량", "기사 읽기", "주제:", "{y}년 {m}월 {d}일"
    ),
    "ar": CardLabels(
        "حقائق رئيسية",
        "ملاحظة المحرر:",
        "قراءة في {n} دقيقة",
        "اقرأ المقال",
        "المواضيع:",
        "{dd}/{mm}/{y}",
    ),
}


def card_labels(language: str | None) -> CardLabels:
    """The labels for a card in ``language`` (a primary subtag, or a tag like ``pt-BR``)."""
    if not language:
        return ENGLISH
    return LABELS.get(language.split("-")[0].lower(), ENGLISH)
