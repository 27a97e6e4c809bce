"""The LLM summarizer against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from digests.config import PipelineConfig
from digests.http import Fetcher
from digests.llm import (
    HourlyCap,
    LlmConfig,
    LlmCounters,
    LlmSummarizer,
    MemorySummaryCache,
    fit_text,
)
from digests.llm_client import ChatClient, retry_after_seconds
from digests.models import Card, FeedEntry
from digests.pipeline import NewsPipeline
from digests.topics import Taxonomy
from tests.news.fake_llm import FakeLlmServer, Reply

PARAGRAPHS = [
    "The city council approved a budget of 4.2 billion dollars on Tuesday, the largest in its "
    "history, after a debate that lasted more than nine hours.",
    "Council members said the money would go to schools, public transport and housing, with "
    "housing alone receiving 1.1 billion dollars over the next three years.",
    "Critics led by councillor Maria Lopez argued that the plan raises property taxes by 3.5 "
    "percent and leaves the city exposed if the economy slows down next year.",
    "The mayor defended the budget, saying the investment in transport would cut commuting "
    "times and attract new businesses to the region.",
]
TEXT = "\n\n".join(PARAGRAPHS)
EXTRACTIVE = (PARAGRAPHS[0],)
FACTS = ("Housing alone receives 1.1 billion dollars over the next three years.",)
NOTE = "This piece was updated to correct the date of the vote."

FAITHFUL = (
    "The city council approved a record 4.2 billion dollar budget on Tuesday after a nine-hour "
    "debate. Critics led by Maria Lopez say it raises property taxes by 3.5 percent."
)


def card(text: str = TEXT, **changes: object) -> Card:
    values: dict[str, object] = {
        "title": "City council passes record budget",
        "url": "https://news.example/budget",
        "source": "Local Times",
        "published": datetime(2026, 11, 27, 8, tzinfo=UTC),
        "summary": EXTRACTIVE,
        "key_facts": FACTS,
        "editors_note": NOTE,
        "topics": ("politics",),
        "reading_minutes": 1,
        "text": text,
    }
    values.update(changes)
    return Card(**values)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[FakeLlmServer]:
    async with FakeLlmServer(Reply(FAITHFUL)) as fake:
        yield fake


def summarizer(
    server: FakeLlmServer,
    *,
    max_words: int = 75,
    cache: MemorySummaryCache | None = None,
    **changes: object,
) -> LlmSummarizer:
    config = LlmConfig(url=server.url, model="tiny", api_key="sk-test-secret", **changes)  # type: ignore[arg-type]
    client = ChatClient(
        config.url,
        model=config.model,
        api_key=config.api_key,
        timeout=config.timeout,
        deadline=config.deadline,
        max_retries=config.max_retries,
    )
    return LlmSummarizer(
        client,
        config,
        max_summary_words=max_words,
        cache=cache or MemorySummaryCache(),
        counters=LlmCounters(),
    )


async def test_a_faithful_summary_is_used_and_the_rest_of_the_card_is_kept(
    server: FakeLlmServer,
) -> None:
    llm = summarizer(server)
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert " ".join(result.summary) == FAITHFUL
    assert len(result.summary) == 2  # split into sentences, as the extractive one is
    assert result.key_facts == FACTS and result.editors_note == NOTE
    assert llm.counters.counts == {"accepted": 1}
    request = server.requests[0]
    assert request.body["model"] == "tiny"
    assert request.headers["Authorization"] == "Bearer sk-test-secret"
    assert "Write in English" in request.system and "at most 75 words" in request.system
    assert PARAGRAPHS[2] in request.user


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (FAITHFUL.replace("3.5", "4.5"), "invented_figure"),
        (FAITHFUL.replace("4.2 billion", "4.2 million"), "invented_figure"),
        (FAITHFUL.replace("Maria Lopez", "John Carter"), "invented_name"),
        ("Le conseil municipal a adopté mardi un budget record de 4,2 milliards de dollars, "
         "le plus élevé de son histoire, après un débat qui a duré plus de neuf heures.",
         "wrong_language"),
        (" ".join([FAITHFUL] * 3), "over_budget"),
        ("I'm sorry, but I can't help with summarising this article.", "refusal"),
        ("Use only facts stated in the article. Copy every number, date, amount and name "
         "exactly as the article writes it.", "prompt_echo"),
        ("", "empty"),
    ],
)  # fmt: skip
async def test_a_summary_the_guard_rejects_falls_back_with_its_reason(
    server: FakeLlmServer, reply: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(reply))
    llm = summarizer(server)
    caplog.set_level(logging.INFO, logger="digests.llm")
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert result.summary == EXTRACTIVE
    assert result.key_facts == FACTS and result.editors_note == NOTE
    assert llm.counters.counts == {reason: 1}
    assert f"({reason}:" in caplog.text
    assert "sk-test-secret" not in caplog.text


async def test_a_reply_cut_off_at_max_tokens_is_over_budget(server: FakeLlmServer) -> None:
    server.script(Reply(FAITHFUL, finish_reason="length"))
    llm = summarizer(server)
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert result.summary == EXTRACTIVE
    assert llm.counters.counts == {"over_budget": 1}


async def test_429_with_retry_after_is_honoured(server: FakeLlmServer) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "1"}), Reply(FAITHFUL))
    llm = summarizer(server)
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert " ".join(result.summary) == FAITHFUL
    first, second = server.requests
    assert second.at - first.at >= 0.95
    assert llm.counters.counts == {"accepted": 1}


async def test_a_retry_after_beyond_the_deadline_falls_back_at_once(
    server: FakeLlmServer,
) -> None:
    server.script(Reply(status=429, headers={"Retry-After": "120"}), Reply(FAITHFUL))
    llm = summarizer(server, deadline=5.0)
    started = time.monotonic()
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert time.monotonic() - started < 2
    assert result.summary == EXTRACTIVE
    assert len(server.requests) == 1
    assert llm.counters.counts == {"rate_limited": 1}


async def test_a_5xx_is_retried(server: FakeLlmServer) -> None:
    server.script(Reply(status=503, headers={"Retry-After": "0"}), Reply(FAITHFUL))
    llm = summarizer(server)
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert " ".join(result.summary) == FAITHFUL
    assert len(server.requests) == 2


async def test_a_slow_server_falls_back_within_the_deadline(server: FakeLlmServer) -> None:
    server.script(Reply(FAITHFUL, delay=5.0))
    llm = summarizer(server, timeout=10.0, deadline=0.5)
    started = time.monotonic()
    try:
        result = await llm.summarize(card())
    finally:
        await llm.aclose()
    assert time.monotonic() - started < 1.5
    assert result.summary == EXTRACTIVE
    assert llm.counters.counts == {"timeout": 1}


async def test_the_cache_prevents_a_second_call(server: FakeLlmServer) -> None:
    llm = summarizer(server)
    try:
        first = await llm.summarize(card())
        # The same article again (another feed, a later poll, another worker's cache).
        again = await llm.summarize(card(url="https://mirror.example/budget"))
        # Rejections are cached too: an article the guard refused is not paid for again.
        server.script(Reply("I'm sorry, I cannot do that."))
        other = card(text=TEXT + "\n\nThe vote is in March.")
        await llm.summarize(other)
        await llm.summarize(other)
    finally:
        await llm.aclose()
    assert again.summary == first.summary
    assert len(server.requests) == 2
    assert llm.counters.counts == {
        "accepted": 1, "cached": 1, "refusal": 1, "cached_fallback": 1
    }  # fmt: skip


async def test_the_same_article_at_once_is_one_call(server: FakeLlmServer) -> None:
    server.script(Reply(FAITHFUL, delay=0.2))
    llm = summarizer(server)
    try:
        results = await asyncio.gather(llm.summarize(card()), llm.summarize(card()))
    finally:
        await llm.aclose()
    assert len(server.requests) == 1
    assert all(" ".join(r.summary) == FAITHFUL for r in results)


async def test_over_the_hourly_cap_the_card_stays_extractive(server: FakeLlmServer) -> None:
    now = [datetime(2026, 12, 1, 12, tzinfo=UTC)]
    cache = MemorySummaryCache(clock=lambda: now[0])
    llm = summarizer(server, cache=cache)
    llm.cap = HourlyCap(2, cache.count_summaries_since, clock=lambda: now[0])
    texts = [f"{TEXT}\n\nUpdate number {i}." for i in range(4)]
    try:
        results = [await llm.summarize(card(text=t)) for t in texts[:3]]
        now[0] += timedelta(minutes=61)  # an hour later the window has room again
        results.append(await llm.summarize(card(text=texts[3])))
    finally:
        await llm.aclose()
    assert [r.summary == EXTRACTIVE for r in results] == [False, False, True, False]
    assert len(server.requests) == 3
    assert llm.counters.counts["over_cap"] == 1


async def test_the_cap_counts_every_worker_and_failed_calls(server: FakeLlmServer) -> None:
    cache = MemorySummaryCache()  # one cache (the database) shared by two workers
    first, second = summarizer(server, cache=cache), summarizer(server, cache=cache)
    for worker in (first, second):
        worker.cap = HourlyCap(3, cache.count_summaries_since)
    try:
        await first.summarize(card(text=TEXT + "\n\nOne."))
        await first.summarize(card(text=TEXT + "\n\nTwo."))
        server.script(Reply(status=400))  # a failed call stores nothing, yet it was a call
        await second.summarize(card(text=TEXT + "\n\nThree."))
        server.script(Reply(FAITHFUL))
        await second.summarize(card(text=TEXT + "\n\nFour."))
    finally:
        await first.aclose()
        await second.aclose()
    assert len(server.requests) == 3
    assert second.counters.counts == {"http_error": 1, "over_cap": 1}


async def test_a_long_article_is_cut_at_paragraphs_keeping_the_lead(
    server: FakeLlmServer,
) -> None:
    long_text = "\n\n".join([*PARAGRAPHS, *(f"Filler paragraph {i}. " * 20 for i in range(50))])
    llm = summarizer(server, max_input_chars=1000)
    try:
        await llm.summarize(card(text=long_text))
    finally:
        await llm.aclose()
    sent = server.requests[0].user
    assert PARAGRAPHS[0] in sent and len(sent) <= 1100
    assert "Filler paragraph 49" not in sent


def test_fit_text_keeps_whole_paragraphs_and_the_lead() -> None:
    assert fit_text(TEXT, 10_000) == TEXT
    cut = fit_text(TEXT, len(PARAGRAPHS[0]) + len(PARAGRAPHS[1]) + 10)
    assert cut == f"{PARAGRAPHS[0]}\n\n{PARAGRAPHS[1]}"
    lead_only = fit_text("First sentence here. Second one is long. " * 10, 50)
    assert lead_only.startswith("First sentence here.") and len(lead_only) <= 50


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("0", 0.0), (None, None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0)],
)  # fmt: skip
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC).timestamp()
    assert retry_after_seconds(value, now=now) == seconds


async def test_the_pipeline_uses_the_summarizer_per_feed_mode(server: FakeLlmServer) -> None:
    config = PipelineConfig(connect_timeout=2, read_timeout=2, total_timeout=5)
    html = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    entry = FeedEntry(
        entry_id="budget",
        feed_url="http://127.0.0.1/feed.xml",
        title="City council passes record budget",
        content_html=html,
    )
    llm = summarizer(server)
    try:
        async with Fetcher(config) as fetcher:
            pipeline = NewsPipeline(
                fetcher, Taxonomy.load(config.topics_path), config, summarizer=llm
            )
            plain = NewsPipeline(fetcher, Taxonomy.load(config.topics_path), config)
            [extractive] = await plain.cards_for_entries([entry])
            [by_llm] = await pipeline.cards_for_entries([entry])
            [kept] = await pipeline.cards_for_entries([entry], summary_mode="extractive")
    finally:
        await llm.aclose()
    assert isinstance(by_llm, Card) and isinstance(extractive, Card) and isinstance(kept, Card)
    assert " ".join(by_llm.summary) == FAITHFUL
    assert kept.summary == extractive.summary != by_llm.summary
    assert by_llm.key_facts == extractive.key_facts
    assert by_llm.editors_note == extractive.editors_note
    assert len(server.requests) == 1


async def test_a_cancelled_call_leaves_the_waiting_twin_extractive(server: FakeLlmServer) -> None:
    server.script(Reply(FAITHFUL, delay=2.0))
    llm = summarizer(server)
    try:
        owner = asyncio.create_task(llm.summarize(card()))
        await asyncio.sleep(0.1)
        twin = asyncio.create_task(llm.summarize(card()))
        await asyncio.sleep(0.1)
        owner.cancel()  # e.g. the poll cycle's deadline
        result = await twin
    finally:
        await llm.aclose()
    assert owner.cancelled()
    assert result.summary == EXTRACTIVE


ZH_TEXT = (
    "市议会周二批准了42亿美元的预算，这是该市历史上规模最大的预算，辩论持续了九个多小时。\n\n"
    "议员们表示，这笔资金将用于学校、公共交通和住房，其中住房在未来三年将获得11亿美元。\n\n"
    "批评者认为，该计划将使房产税提高3.5%，如果明年经济放缓，城市将面临风险。"
)


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        ("市议会周二批准了42亿美元的创纪录预算。批评者认为房产税将提高3.5%。", "accepted"),
        ("市议会周二批准了45亿美元的创纪录预算。", "invented_figure"),
        ("市议会批准了预算。" * 20, "over_budget"),  # 180 characters > 163
        ("The council approved a record budget of 4.2 billion dollars on Tuesday.",
         "wrong_language"),
    ],
)  # fmt: skip
async def test_a_chinese_article_is_budgeted_in_characters(
    server: FakeLlmServer, reply: str, outcome: str
) -> None:
    server.script(Reply(reply))
    llm = summarizer(server)
    try:
        await llm.summarize(card(text=ZH_TEXT, title="市议会通过创纪录预算"))
    finally:
        await llm.aclose()
    assert llm.counters.counts == {outcome: 1}
    assert "at most 163 characters" in server.requests[0].system
    assert "Write in Chinese" in server.requests[0].system
