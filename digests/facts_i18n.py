"""Specifics as other languages write them, for :mod:`digests.facts`.

The English patterns of ``digests.facts`` read "5.6 percent" and "$328 billion". These read the
same kinds of specifics as German, French, Spanish, Portuguese, Italian, Russian, Arabic,
Chinese, Japanese and Korean pages write them: decimal commas ("5,6 %"), thin, non-breaking
or plain spaces between thousands ("3 000"), percent words ("Prozent", "pour cent", "процента",
"في المئة"), scale words ("Mrd.", "млрд", "万亿", "억"), currency words and symbols, CJK dates
("2024年4月", "2024년 4월") and Arabic-Indic digits (``\\d`` matches every decimal digit).
To add a language, add its words to the lists below; each list is one alternation.
"""

from __future__ import annotations

import re

__all__ = ["FOREIGN_SPECIFICS", "foreign_terms"]


def _any(words: str) -> str:
    """An alternation of the ``|``-separated ``words``, longest first (so "Mrd." beats "M")."""
    alternatives = sorted({w.strip() for w in words.split("|") if w.strip()}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s") for w in alternatives) + ")"


# 3 000 / 3 000 / 3 000 / 3.000 / 3,000 / 3٬000; decimals with "," "." or the Arabic "٫".
# Not preceded by a digit or a decimal mark: "5,6" is read once, not "6" again.
_NUM = (
    r"(?<![\d.,٫])\d{1,3}(?:[\u00a0\u202f\u2009 .,٬]\d{3})+(?![\d])(?:[.,٫]\d+)?"
    r"|(?<![\d.,٫])\d+(?:[.,٫]\d+)?"
)
_YEAR = r"(?:1[89]|20|١[٨٩]|٢٠|۱[۸۹]|۲۰)\d{2}"
_LATIN_END = r"(?![^\W\d_])"  # a word of a space-separated script ends here (\b for Unicode)

_SCALE = _any(
    "Tsd.|Mio.|Mrd.|Millionen|Million|Milliarden|Milliarde|Billionen|"
    "mille|millions|million|milliards|milliard|Md|Mds|"
    "mil millones|millones|millón|billones|"
    "mil|milhões|milhão|bilhões|bilhão|"
    "milioni|milione|miliardi|miliardo|mln|mld|"
    "тыс.|тысяч|тысячи|млн|миллиона|миллионов|миллион|млрд|миллиарда|миллиардов|трлн|"
    "ألف|آلاف|مليون|ملايين|مليار|مليارات|تريليون"
)
_CJK_SCALE = _any("万亿|千亿|百亿|十亿|亿|万|千|百万|億|兆|억|조|만|천")
_CURRENCY_WORD = _any(
    "Euro|Dollar|US-Dollar|Franken|Pfund|Yuan|Rubel|"
    "euros|dollars|dollars américains|livres|yuans|francs|"
    "dólares|dólares estadounidenses|pesos|yuanes|libras|reales|"
    "reais|dólar|"
    "dollari|sterline|"
    "евро|долларов|доллара|доллар|рублей|рубля|рубль|юаней|юаня|"
    "دولار|دولارات|يورو|ريال|درهم|جنيه|يوان|دينار"
)
_CJK_CURRENCY = _any(
    "美元|欧元|日元|人民币|元|港元|韩元|英镑|円|ドル|ユーロ|人民元|ウォン|원|달러|유로|위안|엔"
)
_SYMBOL = r"(?:R\$|US\$|[$€£¥₩₽₹₺￥])"

_PERCENT_WORD = _any(
    "Prozent|Prozentpunkte|Prozentpunkten|pour cent|points de pourcentage|por ciento|"
    "puntos porcentuales|por cento|pontos percentuais|per cento|punti percentuali|"
    "процента|процентов|процент|процентных пункта|процентных пунктов|"
    "في المئة|في المائة|بالمئة|بالمائة|%|٪|％"
)
_CJK_PERCENT = r"(?:%|％|个百分点|個百分點|ポイント|퍼센트|%포인트|%p)"

_MONTHS = _any(
    "Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|"
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|"
    "janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro|"
    "gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|"
    "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    "يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
)
_DURATION_WORD = _any(
    "Jahre|Jahren|Jahr|Monate|Monaten|Wochen|Tage|Tagen|Jahrzehnte|Jahrzehnten|Stunden|"
    "ans|années|mois|semaines|jours|décennies|heures|"
    "años|meses|semanas|días|décadas|horas|anos|dias|"
    "anni|mesi|settimane|giorni|decenni|ore|"
    "лет|года|год|месяцев|месяца|недель|недели|дней|дня|десятилетий|часов|"
    "سنوات|سنة|عاما|عامًا|أعوام|أشهر|شهرا|شهرًا|أسابيع|أيام|يوما|يومًا|ساعات"
)
_IN_A_ROW = _any(
    "in Folge|hintereinander|consécutives|consécutifs|consécutive|consécutif|d'affilée|"
    "consecutivos|consecutivas|consecutivo|seguidos|consecutivi|consecutive|di fila|"
    "подряд|على التوالي|连续|連続|연속"
)
_RANKING = _any(
    "größte|größten|größter|größtes|höchste|höchsten|niedrigste|erste|ersten|erstmals|Rekord|"
    "plus grand|plus grande|plus haut|premier|première|record|deuxième|"
    "mayor|más grande|primer|primera|récord|segundo|"
    "maior|primeiro|recorde|"
    "maggiore|più grande|primo|prima volta|"
    "крупнейший|крупнейшим|крупнейшей|крупнейших|первый|первым|впервые|рекорд|рекордный|"
    "أكبر|أول|الأولى|قياسي|قياسية"
)
# No word boundaries in these scripts: "最大贸易伙伴" holds "最大" inside a run of letters.
_CJK_RANKING = _any(
    "最大|第一|首次|首位|最高|历史新高|創紀錄|创纪录|过去最高|過去最高|初めて|"
    "최대|최초|처음|최고|사상 최고"
)
_CJK_COUNTER = (
    r"(?:名|家|个|個|人|项|項|座|所|艘|辆|台|件|社|校|カ国|か国|ヵ国|国|개|명|곳|건|대|척|개국)"
)

FOREIGN_SPECIFICS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        rf"{_SYMBOL}\s?(?:{_NUM})(?:\s?{_SCALE}{_LATIN_END}|{_CJK_SCALE})?"
        rf"|(?:{_NUM})\s?(?:{_SCALE}{_LATIN_END}\s?)?(?:(?:de|di)\s|d['’])?"
        rf"(?:{_CURRENCY_WORD}{_LATIN_END}|{_SYMBOL})"
        rf"|(?:{_NUM})\s?{_CJK_SCALE}?\s?{_CJK_CURRENCY}",
        re.I,
    ),
    "percent": re.compile(
        rf"(?:{_NUM})\s?(?:{_PERCENT_WORD}{_LATIN_END}|{_CJK_PERCENT})|百分之[\d.一二三四五六七八九十]+",
        re.I,
    ),
    "date": re.compile(
        rf"(?<!\d){_YEAR}\s?(?:年|년)(?:\s?\d{{1,2}}\s?(?:月|월)(?:\s?\d{{1,2}}\s?(?:日|일))?)?"
        rf"|(?<!\d)\d{{1,2}}\s?(?:月|월)\s?\d{{1,2}}\s?(?:日|일)"
        rf"|(?<!\d)\d{{1,2}}\.?\s(?:de\s)?{_MONTHS}{_LATIN_END}"
        rf"|{_MONTHS}\s(?:de\s)?{_YEAR}(?!\d)"
        rf"|(?<!\d){_YEAR}(?!\d)",
        re.I,
    ),
    "duration": re.compile(
        rf"(?<![\d.,])\d{{1,3}}\s(?:{_DURATION_WORD}){_LATIN_END}"
        rf"|(?<!\d)\d{{1,3}}\s?(?:多)?(?:年|个月|か月|ヶ月|カ月|周|週間|天|日間|年間|년|개월|주|일간)"
        rf"(?!\d)|{_IN_A_ROW}",
        re.I,
    ),
    "ranking": re.compile(rf"(?<![^\W\d_]){_RANKING}{_LATIN_END}|{_CJK_RANKING}", re.I),
    "count": re.compile(
        rf"(?:{_NUM})\s?(?:{_SCALE}{_LATIN_END}\s?)?[^\W\d_]{{3,}}"
        rf"|(?:{_NUM}){_CJK_SCALE}?{_CJK_COUNTER}",
        re.I,
    ),
}

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W_]+")


def foreign_terms(text: str) -> list[str]:
    """Terms for telling whether two facts say the same thing: lower-cased words of three or
    more letters, and for CJK runs their character pairs (there are no spaces to split on)."""
    terms: list[str] = []
    for word in _WORD.findall(text.lower()):
        if _CJK_CHAR.search(word):
            terms.extend(word[i : i + 2] for i in range(len(word) - 1))
        elif len(word) >= 3 or word.isdigit():
            terms.append(word)
    return terms
