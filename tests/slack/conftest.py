from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.ports import ChatRef, Choice, CommandRequest, Reply
from bot.settings import Settings
from bot.slack import SlackAdapter, build_slack_adapter
from digests.models import Card
from tests.slack.fake_slack_api import FakeSlackApi
from tests.slack.local_feed import FeedSite, serve_feed_site
from tests.slack.slack_requests import SlackRequests

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def make_card(title: str = "Trade talks resume", text_words: int = 50) -> Card:
    return Card(
        title=title,
        url="https://news.example/trade-talks",
        source="Example News",
        published=None,
        summary=(" ".join(["word"] * text_words) + ".",),
        key_facts=("Fact one.", "Fact two."),
        editors_note=None,
        topics=("trade",),
        reading_minutes=3,
    )


@dataclass
class RecordingCommands:
    """A CommandHandler at the port boundary: remembers requests and per-chat subscriptions.

    It stands in for the core so that these tests are about the Slack translation; the
    end-to-end tests use the real ``CommandCore``.
    """

    requests: list[CommandRequest] = field(default_factory=list)
    subscriptions: dict[ChatRef, list[str]] = field(default_factory=dict)

    async def handle(self, request: CommandRequest) -> Reply:
        self.requests.append(request)
        subs = self.subscriptions.setdefault(request.chat, [])
        if request.name == "subscribe":
            subs.extend(request.args)
            return Reply(f"Subscribed to {', '.join(request.args)} <for now> & more")
        if request.name == "unsubscribe":
            if request.args == ("all",):
                subs.clear()
            else:
                for arg in request.args:
                    if arg in subs:
                        subs.remove(arg)
            return Reply("Unsubscribed.")
        if request.name == "list":
            return Reply("Subscriptions: " + (", ".join(subs) or "none"))
        if request.name == "topics":
            return Reply(
                "Topics:",
                choices=(
                    Choice("Economy", "subscribe economy"),
                    Choice("Trade", "subscribe trade"),
                ),
            )
        if request.name == "digest":
            return Reply("Your digest:", cards=(make_card(), make_card("Second piece")))
        if request.name == "settings":
            return Reply("Schedule: " + " ".join(request.args))
        if request.name == "boom":
            raise RuntimeError("core failure")
        return Reply("Commands: subscribe, unsubscribe, list, topics, now, settings, help")


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeSlackApi]:
    async with FakeSlackApi() as api:
        yield api


@pytest.fixture
def commands() -> RecordingCommands:
    return RecordingCommands()


def slack_settings(api: FakeSlackApi, **extra: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api.base_url,
        "PORT": 0,
        "DIGESTBOT_ALLOW_PRIVATE_ADDRESSES": True,  # feeds and pages are on 127.0.0.1
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


@pytest.fixture
async def adapter(
    fake_api: FakeSlackApi, commands: RecordingCommands
) -> AsyncIterator[SlackAdapter]:
    built = build_slack_adapter(slack_settings(fake_api), commands, host="127.0.0.1")
    async with built:
        yield built


@pytest.fixture
def slack(adapter: SlackAdapter) -> SlackRequests:
    return SlackRequests(f"http://127.0.0.1:{adapter.port}/slack/events", SIGNING_SECRET)


@pytest.fixture
async def feed_site() -> AsyncIterator[FeedSite]:
    async with serve_feed_site() as site:
        yield site
