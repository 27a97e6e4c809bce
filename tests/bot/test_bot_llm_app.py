"""LLM summaries through the worker: settings -> App -> poll -> stored cards, against a fake
OpenAI-compatible server on 127.0.0.1; the feeds CLI's --summary."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.cli import _build_parser
from bot.errors import LlmSetupError
from bot.feeds_cli import main_feeds
from bot.settings import Settings
from tests.bot.conftest import make_settings
from tests.bot.fakes import TRADE_BODY, FakeAdapter, FakeClock, FakeSender, FeedSite, Item
from tests.news.fake_llm import FakeLlmServer, Reply

FAITHFUL = (
    "Two-way trade between the neighbours rose again last year, helped by tariff cuts. "
    "Critics argue that the trade surplus hides weak domestic demand."
)


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlmServer]:
    async with FakeLlmServer(Reply(FAITHFUL)) as server:
        yield server


def settings(tmp_path: Path, server: FakeLlmServer | None, **values: object) -> Settings:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'llm.sqlite3'}"
    if server is not None:
        values = {"llm_url": server.url, "llm_model": "tiny", **values}
    return make_settings(db_url, tmp_path, **values)


def app(config: Settings, site: FeedSite) -> App:
    return App(
        config,
        fetch_transport=site.transport,
        adapters=[FakeAdapter(FakeSender())],
        clock=FakeClock(),
        pacing=False,
    )


async def test_cards_carry_the_guarded_summary_once_per_article(
    tmp_path: Path, llm: FakeLlmServer
) -> None:
    site = FeedSite()
    config = settings(tmp_path, llm, llm_api_key="sk-secret")
    async with app(config, site) as worker:
        assert worker.llm is not None
        await worker.store.add_feed(site.add("a.example", Item("t1", "Trade rises", TRADE_BODY)))
        extractive_feed = site.add("b.example", Item("t2", "Trade again", TRADE_BODY + "\n\nMore."))
        await worker.store.add_feed(extractive_feed, summary_mode="extractive")
        await worker.run_once()
        cards = {c.card.title: c.card for c in await worker.store.latest_cards(10)}
        counts = dict(worker.llm.counters.counts)
        exposition = worker.metrics.exposition().decode()
    assert 'digestbot_llm_summaries_total{outcome="accepted"} 1.0' in exposition
    assert " ".join(cards["Trade rises"].summary) == FAITHFUL
    assert " ".join(cards["Trade again"].summary) != FAITHFUL  # its feed says extractive
    assert cards["Trade rises"].key_facts == cards["Trade again"].key_facts  # never generated
    assert counts == {"accepted": 1}
    assert len(llm.requests) == 1
    assert llm.requests[0].headers["Authorization"] == "Bearer sk-secret"

    # A restart (or another worker) meeting the same article in another feed pays nothing.
    llm.script(Reply("I'm sorry, I can't."))
    async with app(config, site) as worker:
        await worker.store.add_feed(site.add("c.example", Item("t3", "Trade (c)", TRADE_BODY)))
        await worker.run_once()
        cards = {c.card.title: c.card for c in await worker.store.latest_cards(10)}
        assert worker.llm is not None and worker.llm.counters.counts == {"cached": 1}
    assert " ".join(cards["Trade (c)"].summary) == FAITHFUL
    assert len(llm.requests) == 1


async def test_without_the_url_nothing_llm_is_wired(tmp_path: Path) -> None:
    async with app(settings(tmp_path, None), FeedSite()) as worker:
        assert worker.llm is None


def test_a_url_without_a_model_is_a_setup_error(tmp_path: Path) -> None:
    config = settings(tmp_path, None, llm_url="http://127.0.0.1:11434/v1")
    with pytest.raises(LlmSetupError, match="DIGESTBOT_LLM_MODEL"):
        config.llm_config()


def test_the_api_key_is_a_secret(tmp_path: Path) -> None:
    config = settings(tmp_path, None, llm_api_key="sk-secret")
    assert "sk-secret" in config.secret_values()
    assert "sk-secret" not in repr(config)


def test_feeds_add_summary_mode_and_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings(tmp_path, None)

    def feeds(*argv: str) -> int:
        return main_feeds(config, _build_parser().parse_args(["feeds", *argv]))

    assert feeds("add", "--no-check", "https://a.example/rss", "--summary", "extractive") == 0
    assert feeds("add", "--no-check", "https://b.example/rss") == 0
    assert feeds("list") == 0
    listing = capsys.readouterr().out
    assert "summary: extractive\n" in listing
    assert "summary: llm (default), extractive until DIGESTBOT_LLM_URL is set" in listing
    with pytest.raises(SystemExit):
        feeds("add", "--no-check", "https://c.example/rss", "--summary", "gpt")


def test_nothing_llm_is_imported_at_start_up_without_the_url() -> None:
    # The cache port (digests.llm_cache: a dataclass and a Protocol) is the store's to
    # implement; the client, the guard and the summarizer must not load.
    code = (
        "import sys, bot.app, bot.cli, bot.settings, digests.pipeline; "
        "print(sorted(m for m in sys.modules if m.startswith(('digests.llm', 'openai'))"
        " and m != 'digests.llm_cache'))"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
