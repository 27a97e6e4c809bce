"""Topic tagging, the taxonomy file, and the card matcher: tables of cases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from digests.models import Card
from digests.topics import (
    Taxonomy,
    TaxonomyError,
    _count,
    matches,
    normalize_filter,
    phrase_pattern,
)

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
REQUIRED = [
    "economy",
    "trade",
    "diplomacy",
    "technology",
    "climate",
    "culture",
    "security",
    "politics",
    "health",
    "science",
    "business",
    "sport",
]

SMALL = Taxonomy(
    {
        "trade": ("trade", "tariff", "free trade agreement"),
        "climate": ("climate change", "emission"),
        "health": ("vaccine", "hospital", "company"),
    }
)


def _card(**fields: object) -> Card:
    base: dict[str, object] = {
        "title": "Port traffic picks up",
        "url": "https://example.com/a",
        "source": None,
        "published": None,
        "summary": ("Ships queued outside the harbour on Monday.",),
        "key_facts": ("Volumes rose 12% in March.",),
        "editors_note": None,
        "topics": ("trade",),
        "reading_minutes": 2,
        "categories": ("Opinion",),
    }
    base.update(fields)
    return Card(**base)  # type: ignore[arg-type]


def test_shipped_taxonomy_loads_and_is_complete() -> None:
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    assert set(REQUIRED) <= set(taxonomy.names())
    for name in taxonomy.names():
        assert 15 <= len(taxonomy.topics[name]) <= 40, name


def test_sample_piece_is_tagged_economy_trade_diplomacy() -> None:
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    text = (DATA / "cgtn-body.txt").read_text(encoding="utf-8")
    tags = taxonomy.tag(
        title="Elevating the China-ROK Strategic Cooperative Partnership",
        text=text,
        categories=[" Opinion ", "opinion", "First Voice"],
    )
    assert {"economy", "trade", "diplomacy"} <= set(tags)
    assert not {"sport", "health"} & set(tags)
    # Taxonomy topics first, then the feed's categories normalised and deduplicated.
    assert tags[-2:] == ("opinion", "first voice")


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        pytest.param("New tariffs announced", "Nothing else.", ("trade",), id="title-hit-suffices"),
        pytest.param("", "Trade rose.", (), id="one-body-hit-is-not-enough"),
        pytest.param("", "Trade rose. Trade fell again.", ("trade",), id="two-body-hits"),
        pytest.param("", "A trademark and a trader traded.", (), id="whole-words-only"),
        pytest.param(
            "",
            "Climate change worsens. Climate-change policy and emissions cuts.",
            ("climate",),
            id="phrase-hyphen-plural",
        ),
        pytest.param("", "Two companies and a company.", ("health",), id="y-plural"),
        pytest.param(
            "Free Trade Agreement signed",
            "Vaccine makers and hospitals welcomed the trade deal.",
            ("trade", "health"),
            id="title-topics-first",
        ),
    ],
)
def test_tag(title: str, text: str, expected: tuple[str, ...]) -> None:
    assert SMALL.tag(title=title, text=text) == expected


def test_taxonomy_normalises_names_and_is_a_value() -> None:
    a = Taxonomy({"Trade ": ("tariff",)})
    b = Taxonomy({"trade": ("tariff",)})
    assert a.names() == ("trade",)
    assert a == b and hash(a) == hash(b)


def test_long_text_needs_more_evidence() -> None:
    filler = "word " * 1300
    assert SMALL.tag(title="", text=f"trade and trade {filler}") == ()
    assert SMALL.tag(title="", text=f"trade and trade and trade and trade {filler}") == ("trade",)


def test_minor_topic_far_behind_the_main_one_is_dropped() -> None:
    text = "trade " * 12 + "vaccine vaccine"
    assert SMALL.tag(title="", text=text) == ("trade",)


@pytest.mark.parametrize(
    ("filters", "card_fields", "expected"),
    [
        pytest.param([], {}, True, id="no-filters-match-all"),
        pytest.param(["", "#"], {}, True, id="blank-filters-are-no-filters"),
        pytest.param(["trade"], {}, True, id="topic-name"),
        pytest.param(["#Trade"], {}, True, id="hashtag-and-case"),
        pytest.param(["climate"], {}, False, id="topic-not-tagged"),
        pytest.param(
            ["climate"], {"summary": ("Climate talks stalled.",)}, False, id="topic-name-needs-tag"
        ),
        pytest.param(["harbour"], {}, True, id="keyword-in-summary"),
        pytest.param(["HARBOUR"], {}, True, id="keyword-case-insensitive"),
        pytest.param(["harb"], {}, False, id="keyword-whole-word"),
        pytest.param(["port traffic"], {}, True, id="phrase-in-title"),
        pytest.param(["traffic port"], {}, False, id="phrase-order-matters"),
        pytest.param(["march"], {}, True, id="keyword-in-key-facts"),
        pytest.param(["opinion"], {}, True, id="keyword-in-categories"),
        pytest.param(
            ["trade"],
            {"topics": (), "title": "Trademark row heats up", "summary": ()},
            False,
            id="trade-not-trademark",
        ),
        pytest.param(["sport", "harbour"], {}, True, id="any-filter-suffices"),
        pytest.param(["first_voice"], {"topics": ("first voice",)}, True, id="underscore-hashtag"),
    ],
)
def test_matches(filters: list[str], card_fields: dict[str, object], expected: bool) -> None:
    assert matches(_card(**card_fields), filters, SMALL) is expected


def test_matches_without_taxonomy_treats_card_topics_as_topics() -> None:
    assert matches(_card(), ["trade"]) is True
    assert matches(_card(topics=()), ["Ships"]) is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("#Trade", "trade"), ("  Climate_Change! ", "climate change"), ("AI,", "ai"), ("#", "")],
)
def test_normalize_filter(raw: str, expected: str) -> None:
    assert normalize_filter(raw) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("topics = [", "not valid TOML"),
        ("[other]\nx = 1\n", "[topics.<name>]"),
        ("[topics.trade]\nwords = ['a']\n", "needs `keywords"),
        ("[topics.trade]\nkeywords = [1, 2]\n", "needs `keywords"),
        ("[topics.trade]\nkeywords = ['  ']\n", "no keywords"),
    ],
)
def test_bad_taxonomy_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=message.replace("[", r"\[").replace("`", "`")):
        Taxonomy.load(path)


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="cannot read"):
        Taxonomy.load(tmp_path / "nope.toml")


def _keyword_soup(taxonomy: Taxonomy, seed: int) -> str:
    """Text dense with keywords of several topics, overlapping, in odd cases and spellings."""
    rng = random.Random(seed)
    keywords = [k for words in taxonomy.topics.values() for k in words]
    pieces = []
    for _ in range(300):
        word = rng.choice(keywords)
        variant = rng.choice([word, word.upper(), word.title(), word + "s", word.replace(" ", "-")])
        glue = rng.choice([" ", " ", "-", "", ", ", "\n", " the "])
        pieces.append(variant + glue)
    return "".join(pieces)


@pytest.mark.parametrize("seed", range(5))
def test_tag_counts_what_findall_counts(seed: int) -> None:
    # tag() tries each topic's pattern only where the one-pass scan saw a keyword start; the
    # counts must be those of a findall per topic, overlapping keywords of other topics too.
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    texts = [_keyword_soup(taxonomy, seed), (DATA / "cgtn-body.txt").read_text(encoding="utf-8")]
    for text in texts:
        starts = taxonomy._starts_in(text)
        for name, words in taxonomy.topics.items():
            pattern = phrase_pattern(words)
            assert _count(pattern, text, starts) == len(pattern.findall(text)), name


@pytest.mark.parametrize("seed", range(5))
def test_matcher_counts_what_findall_counts_in_every_language(seed: int) -> None:
    # Matcher.count tries at each keyword start only the topics with a keyword beginning with
    # that letter: the counts must be a findall's per topic, in each language's keywords, with
    # the characters re.IGNORECASE folds onto ASCII ("\u017f" for s, the Kelvin sign for k).
    taxonomy = Taxonomy.load(REPO / "config" / "topics.toml")
    for language in taxonomy.languages():
        matcher = taxonomy._matcher(language)
        table = taxonomy.topics if language == "en" else taxonomy.translations[language]
        keywords = Taxonomy({n: tuple(w) for n, w in table.items()})
        soup = _keyword_soup(keywords, seed) + " \u017ftrike \u212aelvin \u0130stanbul"
        counts = matcher.count(soup, matcher.starts_in(soup))
        for name, pattern in matcher.patterns.items():
            assert counts[name] == len(pattern.findall(soup)), (language, name)


def test_tag_with_keywords_shared_and_nested_across_topics() -> None:
    taxonomy = Taxonomy(
        {
            "trade": ("trade", "supply chain"),
            "war": ("trade war", "war"),
            "economy": ("supply chain", "chain"),
        }
    )
    text = (
        "Trade war. Trade-war talk. Supply chains, a supply-chain chain; trade, trade wars, chain."
    )
    # trade 5: "Trade war", "trade wars" and "trade" (not "Trade-war": a hyphen joins words),
    # both supply chains. economy 4: both supply chains and the two lone chains. war 3: the
    # three trade wars, each also counted for trade.
    assert taxonomy.tag(title="", text=text) == ("trade", "economy", "war")


# --- Keywords in other languages --------------------------------------------------------------

LANGUAGES = ["en", "zh", "ja", "ko", "de", "fr", "es", "ru", "ar", "pt", "it"]


@pytest.fixture(scope="module")
def shipped() -> Taxonomy:
    return Taxonomy.load(REPO / "config" / "topics.toml")


def test_every_topic_has_keywords_in_every_language(shipped: Taxonomy) -> None:
    assert set(LANGUAGES) <= set(shipped.languages())
    for language in shipped.languages():
        if language == "en":
            continue
        table = shipped.translations[language]
        assert set(table) == set(shipped.names()), language
        for name, words in table.items():
            assert 15 <= len(words) <= 45, (language, name)


# A few sentences a piece on trade would hold, in each language, with no English keyword.
TRADE = {
    "zh": "两国贸易额去年增长百分之五。双方同意降低关税，并推动自由贸易协定谈判。",
    "ja": "両国の貿易額は昨年5%増えた。双方は関税の引き下げで合意し、自由貿易協定の交渉を進める。",
    "ko": "양국의 교역 규모는 작년에 5% 늘었다. "
    "양측은 관세를 낮추고 자유무역협정 협상을 추진하기로 했다.",
    "de": "Der Handel zwischen beiden Ländern wuchs um fünf Prozent. Beide Seiten wollen die Zölle"
    " senken und ein Handelsabkommen aushandeln.",
    "fr": "Le commerce entre les deux pays a progressé de 5 %. Les deux parties veulent baisser les"
    " droits de douane et relancer les exportations.",
    "es": "El comercio entre ambos países creció un 5 %. Las dos partes quieren reducir los"
    " aranceles y firmar un tratado de libre comercio.",
    "ru": "Товарооборот двух стран вырос на 5 процентов. Стороны договорились снизить пошлины и"
    " расширить торговлю.",
    "ar": "نمت التجارة بين البلدين بنسبة 5 في المائة. واتفق الجانبان على خفض الرسوم الجمركية"
    " وتعزيز الصادرات.",
    "pt": "O comércio entre os dois países cresceu 5%. As duas partes querem reduzir as tarifas e"
    " ampliar as exportações.",
    "it": "Il commercio tra i due Paesi è cresciuto del 5%. Le due parti vogliono ridurre i dazi e"
    " aumentare le esportazioni.",
}


@pytest.mark.parametrize("language", sorted(TRADE))
def test_trade_piece_is_tagged_trade_in_its_language(shipped: Taxonomy, language: str) -> None:
    tags = shipped.tag(title="", text=TRADE[language], language=language)
    assert tags and tags[0] == "trade", tags
    # Without a language: told by script (zh, ja, ko, ar, ru), else English keywords only.
    untold = shipped.tag(title="", text=TRADE[language])
    assert ("trade" in untold) is (language in {"zh", "ja", "ko", "ar", "ru"}), untold


@pytest.mark.parametrize(
    ("language", "title", "expected"),
    [
        ("zh", "世界杯：球队主教练谈比赛", "sport"),
        ("ja", "日銀が金利を据え置き、円安が続く", "economy"),
        ("ko", "정부, 탄소중립 위한 재생에너지 확대", "climate"),
        ("de", "Bundestag stimmt über Gesetzentwurf ab", "politics"),
        ("fr", "Le vaccin contre le virus arrive à l'hôpital", "health"),
        ("es", "La NASA lanza un telescopio para estudiar Marte", "science"),
        ("ru", "Министр иностранных дел провёл переговоры с послом", "diplomacy"),
        ("ar", "والذكاء الاصطناعي يغير صناعة الرقائق", "technology"),
        ("pt", "Empresa anuncia fusão e lucro recorde na bolsa", "business"),
        ("it", "Il museo apre una mostra di pittura e cinema", "culture"),
        ("de", "Drohnenangriff trotz Waffenruhe", "security"),
    ],
)
def test_title_keyword_in_each_language(
    shipped: Taxonomy, language: str, title: str, expected: str
) -> None:
    assert expected in shipped.tag(title=title, text="", language=language)


@pytest.mark.parametrize(
    ("language", "text", "absent"),
    [
        # German "war" is "was", "Art" is "kind": the English list is not used for German.
        (
            "de",
            "Es war eine Art Kompromiss. Es war spät, und es war kalt.",
            {"security", "science"},
        ),
        # A prefix keyword must not run into unrelated words: "рак*" was not listed, "ракета" is.
        ("ru", "Ракета стартовала. Ракетный двигатель работал штатно.", {"health"}),
        # Spanish "partido" is a party and a match: listed under politics only.
        ("es", "El partido ganó. El partido presentó su programa.", {"sport"}),
        # Korean "경기" (game) also means the economy's state: not a sport keyword.
        ("ko", "경기 침체가 길어지고 있다. 경기 회복은 더디다.", {"sport"}),
    ],
)
def test_false_friends_do_not_tag(
    shipped: Taxonomy, language: str, text: str, absent: set[str]
) -> None:
    assert not absent & set(shipped.tag(title="", text=text, language=language))


@pytest.mark.parametrize(
    ("phrases", "text", "found"),
    [
        pytest.param(("торгов*",), "Объём торговли вырос", True, id="ru-prefix"),
        pytest.param(("торгов*",), "Наторговали много", False, id="ru-prefix-word-start"),
        pytest.param(("Handels*",), "Das Handelsabkommen steht", True, id="de-compound"),
        pytest.param(("Handels*",), "Es handelt sich um", False, id="de-not-handelt"),
        pytest.param(("التجارة",), "وقال إن والتجارة تنمو", True, id="ar-proclitic"),
        pytest.param(("التجارة",), "تجارب التجارةالحرة", False, id="ar-whole-word"),
        pytest.param(("贸易",), "中韩贸易额增长", True, id="zh-substring"),
        pytest.param(("무역",), "무역은 늘었다", True, id="ko-particle"),
        pytest.param(("경기 침체",), "경기침체가 길어진다", True, id="ko-space-optional"),
        pytest.param(("ai",), "AI技术发展很快", True, id="latin-next-to-cjk"),
        pytest.param(("ai",), "Said the AIM team", False, id="latin-whole-word"),
        pytest.param(("commerce",), "Le Commerce extérieur", True, id="fr-case"),
        pytest.param(("comercio",), "los comercios locales", True, id="es-plural"),
    ],
)
def test_phrase_pattern_across_scripts(phrases: tuple[str, ...], text: str, found: bool) -> None:
    assert (phrase_pattern(phrases).search(text) is not None) is found


@pytest.mark.parametrize(
    ("filters", "fields", "expected"),
    [
        pytest.param(["commerce"], {"title": "Le commerce mondial ralentit"}, True, id="fr"),
        pytest.param(["Handel"], {"summary": ("Der Handel mit China wächst.",)}, True, id="de"),
        pytest.param(["Handel"], {"summary": ("Es handelt sich um Zölle.",)}, False, id="de-word"),
        pytest.param(["贸易"], {"title": "中韩贸易额创新高"}, True, id="zh-substring"),
        pytest.param(["関税"], {"key_facts": ("政府は関税を10%引き上げた。",)}, True, id="ja"),
        pytest.param(["무역"], {"summary": ("양국 무역은 늘었다.",)}, True, id="ko-particle"),
        pytest.param(["торговля"], {"title": "Торговля растёт"}, True, id="ru-case"),
        pytest.param(["تجارة"], {"title": "تجارة الصين تنمو"}, True, id="ar"),
    ],
)
def test_keyword_filters_in_the_cards_language(
    filters: list[str], fields: dict[str, object], expected: bool
) -> None:
    base: dict[str, object] = {"topics": (), "categories": (), "summary": (), "key_facts": ()}
    card = _card(**{**base, **fields})
    assert matches(card, filters, SMALL) is expected


def test_bad_language_key(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text("[topics.trade]\nkeywords = ['trade']\nFrench = ['commerce']\n", "utf-8")
    with pytest.raises(TaxonomyError, match="neither"):
        Taxonomy.load(path)
    path.write_text("[topics.trade]\nkeywords = ['trade']\nfr = []\n", "utf-8")
    with pytest.raises(TaxonomyError, match="no keywords in 'fr'"):
        Taxonomy.load(path)


@pytest.mark.parametrize("language", ["de", "ru", "ar", "zh"])
@pytest.mark.parametrize("seed", range(2))
def test_tag_counts_what_findall_counts_in_each_language(
    shipped: Taxonomy, language: str, seed: int
) -> None:
    table = shipped.translations[language]
    text = _keyword_soup(Taxonomy(table), seed)
    starts = shipped._starts_in(text, language)
    for name, words in table.items():
        pattern = phrase_pattern(words)
        assert _count(pattern, text, starts) == len(pattern.findall(text)), name
