"""Slack in many workspaces: the real App, Bolt's OAuth flow and slack_sdk against the fake API.

Two workspaces install the app through ``/slack/install`` and ``/slack/oauth_redirect``; each
subscribes its ``#news`` channel, which has the same channel id (``C0NEWS``) in both; new
pieces reach each with its own token; uninstalling one stops it within one delivery round and
leaves the other alone.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot import messages as msg
from bot.app import App
from bot.errors import SlackConfigError
from bot.i18n import translator
from bot.messages import SLACK_NOT_INSTALLED
from bot.ports import ChatRef
from bot.slack import SlackAdapter, build_slack_adapter
from bot.store.slack_installs import UNINSTALLED
from tests.slack.conftest import SIGNING_SECRET, RecordingCommands, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi, Workspace
from tests.slack.local_feed import Clock, FeedSite, no_sleep
from tests.slack.slack_requests import SlackRequests

POLL_SECONDS = 600
STATE_COOKIE = "slack-app-oauth-state"


def oauth_settings(api: FakeSlackApi, **extra: object) -> Any:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": None,
        "SLACK_CLIENT_ID": api.client_id,
        "SLACK_CLIENT_SECRET": api.client_secret,
        "SLACK_STATE_SECRET": "a-long-random-state-secret",
    }
    values.update(extra)
    return slack_settings(api, **values)


@dataclass
class Multi:
    app: App
    adapter: SlackAdapter
    slack: SlackRequests
    api: FakeSlackApi
    site: FeedSite
    clock: Clock
    db: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}"

    async def start_install(self, session: aiohttp.ClientSession) -> tuple[str, str]:
        """GET /slack/install: the state in the "Add to Slack" link, and the cookie set."""
        async with session.get(f"{self.base}/slack/install") as response:
            assert response.status == 200
            page = await response.text()
            cookie = response.cookies[STATE_COOKIE].value
        [link] = re.findall(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page)
        query = parse_qs(urlparse(unescape(link)).query)
        assert query["client_id"] == [self.api.client_id]
        assert "chat:write" in query["scope"][0].split(",")
        return query["state"][0], cookie

    async def redirect(
        self, session: aiohttp.ClientSession, code: str, state: str, cookie: str | None
    ) -> int:
        headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie else {}
        url = f"{self.base}/slack/oauth_redirect"
        params = {"code": code, "state": state}
        async with session.get(url, params=params, headers=headers) as response:
            await response.read()
            return response.status

    async def install(self, workspace: Workspace, code: str) -> None:
        async with aiohttp.ClientSession() as session:
            state, cookie = await self.start_install(session)
            assert await self.redirect(session, code, state, cookie) == 200

    async def command(
        self, team: str, text: str, *, user: str = "U0ALICE", channel: str = "C0NEWS"
    ) -> str:
        name = f"r{len(self.api.responses)}"
        url = self.api.response_url(name)
        status, _ = await self.slack.command(
            text, response_url=url, team_id=team, user_id=user, channel_id=channel
        )
        assert status == 200
        await self.api.wait_for(lambda: bool(self.api.responses[name]))
        return str(self.api.responses[name][0]["text"])

    async def event(self, team: str, event: dict[str, Any]) -> None:
        """Send an event and wait until its listener (run after the ack) is done with it."""
        status, _ = await self.slack.event(event, team_id=team)
        assert status == 200
        sub = ChatRef("slack", f"{team}:C0NEWS")
        for _ in range(500):  # the listener runs after the ack: give it up to 5 s
            if await self.app.store.find_slack_installation(team) is None:
                break
            await asyncio.sleep(0.01)
        current = await self.app.store.get_subscription(sub)
        assert current is None or not current.active

    async def next_cycle(self) -> Any:
        self.clock.advance(POLL_SECONDS * 2)
        return await self.app.run_once()


@pytest.fixture
async def multi(
    tmp_path: Path, fake_api: FakeSlackApi, feed_site: FeedSite
) -> AsyncIterator[Multi]:
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(f'[[feeds]]\nurl = "{feed_site.base}/feed.xml"\nname = "Local Times"\n')
    db = tmp_path / "multi.sqlite3"
    settings = oauth_settings(
        fake_api,
        DATABASE_URL=f"sqlite+aiosqlite:///{db}",
        DIGESTBOT_FEEDS_FILE=str(feeds),
        DIGESTBOT_POLL_INTERVAL=POLL_SECONDS,
        DIGESTBOT_SECRET_KEY=Fernet.generate_key().decode(),
    )
    clock = Clock()
    feed_site.entries.append(("old", "An old piece already in the feed"))
    async with App(settings, clock=clock, pacing=False, sleep=no_sleep) as app:
        [adapter] = app.adapters
        assert isinstance(adapter, SlackAdapter)
        await adapter.start()
        try:
            url = f"http://127.0.0.1:{adapter.port}/slack/events"
            yield Multi(
                app, adapter, SlackRequests(url, SIGNING_SECRET), fake_api, feed_site, clock, db
            )
        finally:
            await adapter.stop()


async def two_workspaces(multi: Multi) -> tuple[Workspace, Workspace]:
    acme = multi.api.add_workspace("T0ACME", "Acme", "code-acme")
    bolt = multi.api.add_workspace("T0BOLT", "Bolt", "code-bolt")
    await multi.install(acme, "code-acme")
    await multi.install(bolt, "code-bolt")
    return acme, bolt


async def test_two_workspaces_install_and_each_gets_cards_with_its_own_token(
    multi: Multi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    acme, bolt = await two_workspaces(multi)
    await multi.app.run_once()  # the feed's first poll: seen, not broadcast
    assert (await multi.command("T0ACME", "subscribe")).startswith("Subscribed to everything")
    assert (await multi.command("T0BOLT", "subscribe trade")).startswith("Subscribed.")
    # the slash command was answered with each workspace's own token (Bolt's auth.test)
    assert set(multi.api.tokens_used("auth.test")) == {acme.bot_token, bolt.bot_token}

    store = multi.app.store
    a = await store.get_subscription(ChatRef("slack", "T0ACME:C0NEWS"))
    b = await store.get_subscription(ChatRef("slack", "T0BOLT:C0NEWS"))
    assert a is not None and b is not None and a.id != b.id
    assert (a.filters, b.filters) == ((), ("trade",))

    multi.site.entries.append(("talks", "Trade talks resume in Geneva"))
    report = await multi.next_cycle()
    assert report.delivery.sent == 2
    assert sorted(multi.api.tokens_used("chat.postMessage", "C0NEWS")) == sorted(
        [acme.bot_token, bolt.bot_token]
    )

    # one workspace unsubscribing leaves the other's subscription to the same channel id
    assert (await multi.command("T0ACME", "unsubscribe all")).startswith("Unsubscribed")
    multi.site.entries.append(("more", "More trade news from Geneva"))
    await multi.next_cycle()
    assert multi.api.tokens_used("chat.postMessage", "C0NEWS")[2:] == [bolt.bot_token]

    # no token in the clear: not in the database file, not in any log line
    raw = multi.db.read_bytes() + b"".join(
        p.read_bytes() for p in multi.db.parent.glob("multi.sqlite3-*")
    )
    for token in (acme.bot_token, bolt.bot_token):
        assert token.encode() not in raw
        assert token not in caplog.text


async def test_uninstalling_one_workspace_stops_it_within_one_round(multi: Multi) -> None:
    acme, bolt = await two_workspaces(multi)
    await multi.app.run_once()
    await multi.command("T0ACME", "subscribe")
    await multi.command("T0BOLT", "subscribe")
    await multi.command("T0ACME", "subscribe", channel="C0SPORTS")  # another Acme channel
    multi.site.entries.append(("talks", "Trade talks resume in Geneva"))
    multi.clock.advance(POLL_SECONDS * 2)
    await multi.app.poll()  # queued for all three channels, not sent yet

    # Slack revokes the token at once; the event follows. Meanwhile a round goes out.
    multi.api.revoke("T0ACME")
    first = await multi.app.deliver()
    assert multi.api.tokens_used("chat.postMessage").count(bolt.bot_token) == 1
    acme_calls = multi.api.tokens_used("chat.postMessage").count(acme.bot_token)
    # Both Acme channels may be in flight before the first refusal comes back (chats are
    # served concurrently); after it the workspace is paused (test_slack_workspaces.py).
    assert 1 <= acme_calls <= 2
    assert first.retry == 2 and first.sent == 1

    await multi.event("T0ACME", {"type": "app_uninstalled"})
    sub = await multi.app.store.get_subscription(ChatRef("slack", "T0ACME:C0NEWS"))
    assert sub is not None and not sub.active and sub.deactivated_reason == UNINSTALLED
    counts = await multi.app.store.outbox_counts()
    assert counts.get("pending", 0) == 0

    multi.site.entries.append(("more", "More trade news from Geneva"))
    await multi.next_cycle()
    posts = multi.api.tokens_used("chat.postMessage")
    assert posts.count(acme.bot_token) == acme_calls  # nothing more was tried there
    assert posts.count(bolt.bot_token) == 2  # the other workspace got both pieces
    b = await multi.app.store.get_subscription(ChatRef("slack", "T0BOLT:C0NEWS"))
    assert b is not None and b.active

    # a reinstall starts clean: the old subscription is gone, the new token works
    multi.api.codes["code-again"] = "T0ACME"
    await multi.install(acme, "code-again")
    assert await multi.app.store.get_subscription(ChatRef("slack", "T0ACME:C0NEWS")) is None
    assert (await multi.command("T0ACME", "list")).startswith("You are not subscribed")


async def test_tokens_revoked_for_the_bot_stops_the_workspace(multi: Multi) -> None:
    await two_workspaces(multi)
    await multi.command("T0ACME", "subscribe")
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOTCME"]}}
    await multi.event("T0ACME", event)
    sub = await multi.app.store.get_subscription(ChatRef("slack", "T0ACME:C0NEWS"))
    assert sub is not None and not sub.active
    assert await multi.app.store.find_slack_installation("T0ACME") is None
    assert await multi.app.store.find_slack_installation("T0BOLT") is not None


async def test_state_is_verified(multi: Multi) -> None:
    multi.api.add_workspace("T0ACME", "Acme", "code-acme")
    async with aiohttp.ClientSession() as session:
        state, cookie = await multi.start_install(session)
        nonce, _, _ = state.partition(".")
        forged = f"{nonce}.{'0' * 32}"
        assert await multi.redirect(session, "code-acme", forged, forged) == 401
        assert await multi.redirect(session, "code-acme", state, None) == 400  # another browser
        assert await multi.redirect(session, "code-acme", state, cookie) == 200
        again = await multi.redirect(session, "code-acme", state, cookie)
        assert again == 401  # a state is good once
    assert await multi.app.store.find_slack_installation("T0ACME") is not None
    assert multi.api.tokens_used("oauth.v2.access") != []


async def test_a_request_from_a_workspace_not_installed_is_not_answered(multi: Multi) -> None:
    name = "stranger"
    status, body = await multi.slack.command(
        "subscribe", response_url=multi.api.response_url(name), team_id="T0NOBODY"
    )
    # Bolt finds no installation: the command is acked, answered with our text, not run
    assert (status, body) == (200, "")
    await multi.api.wait_for(lambda: bool(multi.api.responses[name]))
    assert [r["text"] for r in multi.api.responses[name]] == [SLACK_NOT_INSTALLED]
    assert await multi.app.store.get_subscription(ChatRef("slack", "T0NOBODY:C0NEWS")) is None


async def test_unknown_words_are_named_as_typed_in_oauth_mode(multi: Multi) -> None:
    await two_workspaces(multi)
    text = await multi.command("T0BOLT", "bogus stuff")
    assert text.startswith("I don't know /digest bogus.")


@pytest.mark.parametrize(
    ("extra", "missing"),
    [
        ({"SLACK_STATE_SECRET": None}, "SLACK_STATE_SECRET"),
        ({"SLACK_CLIENT_SECRET": None}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_SIGNING_SECRET": None}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-one"}, "SLACK_BOT_TOKEN"),
    ],
)
def test_half_an_oauth_setup_is_refused_with_what_to_set(
    fake_api: FakeSlackApi, extra: dict[str, object], missing: str
) -> None:
    settings = oauth_settings(fake_api, **extra)
    with pytest.raises(SlackConfigError, match=missing):
        build_slack_adapter(settings, RecordingCommands(), store=None)


def test_a_bad_secret_key_is_refused(fake_api: FakeSlackApi, tmp_path: Path) -> None:
    settings = oauth_settings(fake_api, DIGESTBOT_SECRET_KEY="not-a-fernet-key")
    with pytest.raises(SlackConfigError, match="Fernet"):
        App(settings)


async def test_events_are_answered_with_the_workspaces_own_token(multi: Multi) -> None:
    acme, bolt = await two_workspaces(multi)
    await multi.command("T0BOLT", "subscribe", channel="D0ALICE")
    status, _ = await multi.slack.event(
        {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"},
        team_id="T0BOLT",
    )
    assert status == 200
    await multi.api.wait_for(lambda: "U0ALICE" in multi.api.home_views)
    assert multi.api.tokens_used("views.publish") == [bolt.bot_token]
    home = str(multi.api.home_views["U0ALICE"]["blocks"])
    assert "You follow everything" in home  # the DM subscription made above, read back
    assert multi.api.tokens_used("conversations.open") == [bolt.bot_token]  # cached
    status, _ = await multi.slack.event(
        {"type": "app_mention", "user": "U0ALICE", "channel": "C0NEWS", "text": "hi"},
        team_id="T0ACME",
    )
    assert status == 200
    await multi.api.wait_for(lambda: bool(multi.api.calls_to("chat.postEphemeral")))
    assert multi.api.tokens_used("chat.postEphemeral") == [acme.bot_token]


async def test_an_uninstall_is_one_log_line(multi: Multi, caplog: pytest.LogCaptureFixture) -> None:
    await two_workspaces(multi)
    await multi.command("T0ACME", "subscribe")
    caplog.set_level(logging.INFO)
    caplog.clear()
    # Slack sends both for one uninstall
    await multi.event("T0ACME", {"type": "tokens_revoked", "tokens": {"bot": ["U0BOTCME"]}})
    await multi.event("T0ACME", {"type": "app_uninstalled"})
    lines = [r.getMessage() for r in caplog.records if "workspace T0ACME" in r.getMessage()]
    assert lines == [
        "slack: bot token revoked in workspace T0ACME: 1 subscription(s) deactivated, "
        "0 pending card(s) cancelled"
    ]


async def test_oauth_with_socket_mode_serves_the_install_pages_only(
    fake_api: FakeSlackApi, tmp_path: Path
) -> None:
    settings = oauth_settings(
        fake_api,
        SLACK_APP_TOKEN="xapp-1-A0DIGEST-1-secret",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'socket.sqlite3'}",
        DIGESTBOT_FEEDS_FILE=str(tmp_path / "none.toml"),
    )
    async with App(settings, pacing=False) as app:
        [adapter] = app.adapters
        assert isinstance(adapter, SlackAdapter)
        async with adapter:
            assert adapter.mode == "socket"
            assert [c.method for c in fake_api.calls] == ["apps.connections.open"]
            base = f"http://127.0.0.1:{adapter.port}"
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{base}/slack/install") as response:
                    assert response.status == 200
                    assert "slack.com/oauth/v2/authorize" in await response.text()
                async with session.post(f"{base}/slack/events", data="{}") as response:
                    assert response.status == 404  # events come over the socket


async def test_replies_in_the_members_slack_language(multi: Multi) -> None:
    await two_workspaces(multi)
    multi.api.users["U0HANS"] = {"locale": "de-DE"}
    multi.api.users["U0ALICE"] = {"locale": "en-US"}
    german = translator("de")
    text = await multi.command("T0ACME", "list", user="U0HANS")
    assert text == msg.not_subscribed(msg.SLACK, t=german)
    assert text != msg.not_subscribed(msg.SLACK)
    assert (await multi.command("T0ACME", "list")) == msg.not_subscribed(msg.SLACK)
    bogus = await multi.command("T0BOLT", "bogus stuff", user="U0HANS")
    assert bogus == msg.unknown_command(msg.SLACK, "bogus", t=german)
    assert "/digest bogus" in bogus  # named as typed, in German too
    [call] = multi.api.calls_to("users.info", None)[:1]
    assert call.params["include_locale"] in ("1", "true", True)
