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

from digests.lang import word_equivalents

Step = Callable[[list[str]], list[str]]

_SENTENCE_END = re.compile(r"[.!?…\"'”’)。！？؟」』）»]$")
_PROSE_END = re.compile(r"[.!?…。！？؟][\"'”’」』»]?$")


def normalise(paragraph: str) -> str:
    """Collapse runs of whitespace (including non-breaking spaces) to one space.

    U+FFFD goes too: it marks bytes or character references that named no character (see
    ``digests.feeds.neutralise_char_refs``) and tells a reader nothing.
    """
    return " ".join(paragraph.replace("\ufffd", " ").split())


def _key(paragraph: str) -> str:
    return normalise(paragraph).casefold()


def _words(paragraph: str) -> float:
    # In English-word equivalents, so that "a caption has at most 60 words" holds for CJK too.
    return word_equivalents(paragraph)


# --- cookie and consent banners ------------------------------------------------------------

_CONSENT_BUTTONS = re.compile(
    r"^(?:i agree|i accept|agree|accept|accept all|accept all cookies|accept cookies|"
    r"allow all|allow cookies|reject all|decline|got it|ok|okay|manage (?:cookie )?preferences|"
    r"cookie settings|manage cookies|customi[sz]e settings|agree and close|accept and close|"
    r"alle akzeptieren|akzeptieren|alle ablehnen|ablehnen|einstellungen|einverstanden|"
    r"tout accepter|accepter|tout refuser|refuser|j'accepte|paramétrer|"
    r"aceptar|aceptar todo|aceptar todas|rechazar|configurar|"
    r"aceitar|aceitar todos|recusar|accetta|accetta tutti|rifiuta|"
    r"принять|принять все|согласен|отклонить|"
    r"接受|全部接受|同意|拒绝|同意する|すべて同意|すべて受け入れる|拒否|"
    r"동의|모두 동의|수락|거부|موافق|قبول|قبول الكل|رفض)"
    r"[.!。]?$",
    re.I,
)
_CONSENT_PHRASES = re.compile(
    r"we use cookies|use of cookies|uses cookies|cookie policy|cookie settings|"
    r"cookie preferences|cookie notice|accept (?:all )?cookies|by continuing to (?:browse|use)|"
    r"consent to (?:the|our) use|you agree to (?:our|the) use|privacy statement|"
    # other languages: the word for cookies, or the banner's stock phrase
    r"cookies?\b.{0,80}(?:verwende|nutze|utilis|usamos|utiliza|usiamo|utilizziamo)|"
    r"(?:verwenden|nutzen|utilisons|utilizamos|usamos|utilizziamo|usiamo)\b.{0,40}cookies|"
    r"datenschutzerklärung|politique de confidentialité|política de (?:privacidad|cookies)|"
    r"файлы cookie|файлов cookie|cookie-файл|使用cookie|使用 cookie|cookieを使用|"
    r"クッキーを使用|쿠키를 사용|쿠키 사용|ملفات تعريف الارتباط",
)
_CONSENT_HINTS = (
    "cookie", "continuing", "consent", "agree", "privacy", "datenschutz", "confidentialité",
    "privacidad", "クッキー", "쿠키", "ملفات تعريف",
)  # fmt: skip


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
    r"|image copyright\b|image caption\b|getty images$"
    r"|(?:foto|bild|fotos|bildquelle|crédit photo|imagen|immagine|фото|снимок|صورة"
    r"|图片来源|图片|图|照片|摄影|写真|画像|사진|자료사진)\s*[:：=／/])",
    re.I,
)
# "… / 新华社", "…（新华社记者 王某 摄）", "（写真：共同）", "[사진=연합뉴스]"
_CJK_CREDIT_TAIL = re.compile(
    r"(?:[（(\[【]\s*(?:[^（）()\[\]【】]{0,20}摄|写真\s*[:：=]|사진\s*[:：=]|图\s*[/／]"
    r"|图片来源\s*[:：]|图片\s*[:：]|共同|ロイター|時事|연합뉴스|뉴시스|뉴스1)"
    r"[^（）()\[\]【】]{0,30}[）)\]】]"
    r"|[＝=][^＝=。]{0,25}撮影"
    r"|\s/\s?(?:新华社|视觉中国|共同|연합뉴스|dpa|AFP|EFE|ТАСС|РИА Новости|وكالة[^/]{0,30}))$"
)
# "... Foto: dpa", "... Фото: ТАСС", "... صورة: رويترز", "... Photo : AFP" (French: a space
# before the colon; English "Photo:" lines are left to the rules above) at a caption's end
_FOREIGN_CREDIT_TAIL = re.compile(
    r"(?<![^\W\d_])"
    r"(?:(?:foto|fotos|bild|imagen|immagine|фото|صورة|الصورة|تصوير)\s*|photo[\s\u00a0\u202f]+)"
    r"[:：]\s*[^.!?。:：]{1,40}$",
    re.I,
)
_CJK_CAPTION_START = re.compile(r"^(?:图为|圖為|资料图|資料圖|写真は|사진은)")
# "Photo by Jane Doe/AFP", "Photo/VCG": only as a short line that is not a sentence, since
# "Pictures by amateur astronomers show..." starts many a sentence
_CREDIT_BYLINE = re.compile(r"^\(?\s*(?:photo|photograph|image|picture)s?\s*(?:by\b|/)", re.I)


def _is_caption(paragraph: str) -> bool:
    words = _words(paragraph)
    if words > 60:
        return False
    # Credits sit in a line's last few dozen characters; searching only there keeps the
    # end-anchored pattern from scanning whole paragraphs.
    tail = paragraph[-160:]
    if _CREDIT_TAIL.search(tail) or _CREDIT_LABEL.match(paragraph):
        return True
    if not tail.isascii() and _CJK_CREDIT_TAIL.search(tail):
        return True
    if _FOREIGN_CREDIT_TAIL.search(tail):
        return True
    if words <= 40 and _CJK_CAPTION_START.match(paragraph):
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
    r"don't miss|also read|see also|"
    r"meistgelesen|meistgelesene artikel|am meisten gelesen|trends?|im trend|beliebt|"
    r"das könnte sie auch interessieren|lesen sie auch|mehr zum thema|weitere artikel|"
    r"les plus lus|tendances?|à lire aussi|a lire aussi|lire aussi|sur le même sujet|"
    r"lo más leído|lo mas leido|tendencias|te puede interesar|lee también|más noticias|"
    r"mais lidas|mais lidos|leia também|em alta|più letti|più lette|leggi anche|"
    r"популярное|самое читаемое|читайте также|в тренде|главное|по теме|"
    r"热门|热门文章|热门新闻|热门推荐|热搜|热搜榜|相关阅读|相关新闻|相关推荐|推荐阅读|延伸阅读|"
    r"热读|精彩推荐|猜你喜欢|编辑推荐|"
    r"ランキング|人気記事|アクセスランキング|関連記事|注目記事|おすすめ記事|"
    r"많이 본 뉴스|많이 본 기사|인기 기사|인기기사|관련 기사|관련기사|실시간 인기|추천 기사|"
    r"الأكثر قراءة|اقرأ أيضا|اقرأ أيضًا|مواضيع ذات صلة|الأكثر رواجا|الأكثر رواجًا)\s*[:：]?$",
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
_NEWSLETTER = re.compile(
    r"newsletter|to your inbox|mailing list|email updates|lettre d'information|boletín|"
    r"рассылк|新闻通讯|电子报|邮件订阅|简报|ニュースレター|メールマガジン|メルマガ|뉴스레터|"
    r"النشرة|نشرة|نشرتنا"
)
_NEWSLETTER_ACTION = re.compile(
    r"sign[ -]?up|subscribe|enter your email|join|abonnieren|anmelden|e-mail-adresse|"
    r"abonnez|inscrivez|s'abonner|suscríbe|suscribir|assine|inscreva|iscriviti|"
    r"regístr|inscríb|cadastr|registrieren|s'inscrire|recevez|recibe|receba|ricevi|"
    r"подпиш|подписаться|订阅|订阅我们|登録|購読|구독|신청|اشترك|اشتراك|سجل"
)
_SHARE = re.compile(
    r"^(?:share(?: this)?(?: article| story| page| post)?|share on [\w ]+|click to share"
    r"(?: on [\w ]+)?|copy link|share via [\w ]+|tweet this|email this|print this)[.!:]?$",
    re.I,
)
# An opinion desk's address in a short paragraph: "meinung@...", "debats@...", "opinion@...".
_DESK_ADDRESS = re.compile(
    r"(?:opinion|meinung|debat|tribune|kommentar|opinión|opiniao|opinione|column)[\w.-]*@[\w-]+\."
)
_CONTRIBUTOR = re.compile(
    r"if you (?:want|would like|wish) to contribute|opinions@|"
    r"follow @\w+ on (?:x|twitter)|to discover the latest commentaries|"
    r"(?:möchten|wollen) sie (?:einen )?(?:gastbeitrag|beitrag)|gastbeitr[äa]g\w* an |"
    r"(?:vous souhaitez|si vous souhaitez) contribuer|envoyez vos tribunes|"
    r"(?:si desea|si quiere|si quieres) (?:colaborar|contribuir)|"
    r"(?:se quiser|se deseja) contribuir|(?:se vuoi|se desideri) contribuire|"
    r"(?:если вы хотите|хотите) (?:стать автором|написать для нас|предложить)|"
    r"欢迎投稿|投稿邮箱|如您想投稿|如果您想投稿|投稿をご希望|寄稿をご希望|"
    r"기고를 원하시면|기고 문의|للمساهمة بمقال|إذا كنت ترغب في المساهمة"
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
        if _CONTRIBUTOR.search(lowered) or ("@" in p and _DESK_ADDRESS.search(lowered)):
            continue
        kept.append(p)
    return kept


# --- source, author and desk-editor lines of CJK and other pages ---------------------------

# "2025-10-20 来源：每日评论网 作者：张华", "责任编辑：刘洋", "（文・写真：山田太郎）",
# "입력 2025.11.05 10:00", "Quelle: dpa". English bylines are trafilatura's business.
_META_LINE = re.compile(
    r"^[\s\d:./年月日\-（(]*"
    r"(?:来源|來源|作者|责任编辑|責任編輯|编辑|編輯|记者|記者|文・写真|文|出典|发布时间|发布日期|"
    r"출처|입력|수정|기자|Quelle|Fuente|Источник|المصدر)\s*[:：=・]"
    # "입력 2025.11.05 10:00", "更新 2025年11月5日", "发布 2025-10-20"
    r"|^(?:입력|수정|등록|발행|公開|更新|配信|发布|發佈)\s*[:：]?\s*\d{4}\s*[.\-/年]",
)
# "ⓒ 한빛일보, 무단전재 및 재배포 금지", "版权所有", "Alle Rechte vorbehalten"
_COPYRIGHT = re.compile(
    r"^ⓒ|무단\s?전재|재배포\s?금지|版权所有|版權所有|禁止转载|未经授权|無断転載|無断複製|"
    r"alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|"
    r"todos os direitos reservados|tutti i diritti riservati|все права защищены|"
    r"جميع الحقوق محفوظة",
    re.I,
)


def drop_meta_lines(paragraphs: list[str]) -> list[str]:
    """Short lines naming the source, author or desk editor ("责任编辑：刘洋"), publication
    times ("입력 2025.11.05 10:00") and copyright notices in other languages than English."""
    return [
        p
        for p in paragraphs
        if not (_words(p) <= 12 and _META_LINE.match(p))
        and not (_words(p) <= 25 and _COPYRIGHT.search(p))
    ]


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
        drop_meta_lines,
        lambda ps: drop_leading_title(ps, title),
    )
    for step in steps:
        result = step(result)
    return result
