"""The real Bolt app over real HTTP: signed slash commands, buttons and events in, Web API out."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from bot.messages import SLACK
from bot.ports import ChatRef, Choice, CommandRequest, Reply
from bot.slack import (
    SlackAdapter,
    SlackConfigError,
    build_request,
    build_slack_adapter,
    home_view,
    reply_messages,
)
from tests.slack.conftest import SIGNING_SECRET, RecordingCommands, make_card, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi, block_kit_problem
from tests.slack.slack_requests import SlackRequests
from tests.slack.spelling import slack_command_text

NEWS = ChatRef("slack", "C0NEWS")


async def run_command(
    slack: SlackRequests, fake_api: FakeSlackApi, text: str, name: str, **kw: str
) -> list[dict[str, Any]]:
    status, body = await slack.command(text, response_url=fake_api.response_url(name), **kw)
    assert (status, body) == (200, "")  # acked empty: the answer follows via response_url
    await fake_api.wait_for(lambda: bool(fake_api.responses[name]))
    return fake_api.responses[name]


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("subscribe climate trade", "subscribe", ("climate", "trade")),
        ("unsubscribe climate", "unsubscribe", ("climate",)),
        ("unsubscribe all", "unsubscribe", ("all",)),
        ("list", "list", ()),
        ("topics", "topics", ()),
        ("now", "digest", ()),
        ("now trade", "digest", ("trade",)),
        ("settings daily 08:00 Europe/Paris", "settings", ("daily", "08:00", "Europe/Paris")),
        ("settings instant", "settings", ("instant",)),
        ("help", "help", ()),
        ("", "help", ()),
        ("  LIST  ", "list", ()),
        ("/subscribe economy", "subscribe", ("economy",)),
        ("unsub trade", "unsubscribe", ("trade",)),
        ("42 things", "42", ("things",)),
    ],
)
def test_build_request(text: str, name: str, args: tuple[str, ...]) -> None:
    request = build_request(text, NEWS, user_id="U1", is_group=True, title="#news")
    assert (request.name, request.args) == (name, args)
    assert (request.chat, request.user_id, request.is_group, request.chat_title) == (
        NEWS,
        "U1",
        True,
        "#news",
    )


@pytest.mark.parametrize(
    "text",
    [
        "subscribe climate",
        "unsubscribe climate",
        "unsubscribe all",
        "list",
        "topics",
        "now",
        "settings hourly",
        "settings daily 07:30 Asia/Tokyo",
        "help",
        "",
    ],
)
async def test_every_subcommand_reaches_the_core_and_is_answered(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands, text: str
) -> None:
    responses = await run_command(slack, fake_api, text, "r1")
    [request] = commands.requests
    expected = build_request(text, NEWS, user_id="U0ALICE", is_group=True, title="#news")
    assert request == expected
    assert request.chat == NEWS
    assert request.user_id == "U0ALICE"
    assert request.is_group is True
    assert request.chat_title == "#news"
    for response in responses:
        assert response["response_type"] == "ephemeral"
        assert block_kit_problem(response) is None


async def test_subscribe_list_unsubscribe_in_a_channel(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    [reply] = await run_command(slack, fake_api, "subscribe climate", "a")
    # plain text from the core is escaped for mrkdwn
    assert reply["text"] == "Subscribed to climate &lt;for now&gt; &amp; more"
    assert reply["blocks"][0]["text"] == {
        "type": "mrkdwn",
        "text": "Subscribed to climate &lt;for now&gt; &amp; more",
    }
    [reply] = await run_command(slack, fake_api, "list", "b")
    assert reply["text"] == "Subscriptions: climate"
    await run_command(slack, fake_api, "unsubscribe all", "c")
    assert commands.subscriptions[NEWS] == []


async def test_a_dm_subscribes_the_users_dm_with_the_bot(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    await run_command(
        slack,
        fake_api,
        "subscribe climate",
        "dm",
        channel_id="D0OTHER",
        channel_name="directmessage",
    )
    [request] = commands.requests
    assert request.chat == ChatRef("slack", "DU0ALICE")  # from conversations.open
    assert request.is_group is False
    assert fake_api.calls_to("conversations.open")[0].params["users"] == "U0ALICE"


async def test_now_answers_with_cards_as_block_kit(
    slack: SlackRequests, fake_api: FakeSlackApi
) -> None:
    responses = await run_command(slack, fake_api, "now", "now")
    await fake_api.wait_for(lambda: len(fake_api.responses["now"]) == 2)
    text_reply, cards = responses
    assert text_reply["text"] == "Your digest:"
    headers = [b["text"]["text"] for b in cards["blocks"] if b["type"] == "header"]
    assert headers == ["Trade talks resume", "Second piece"]
    assert block_kit_problem(cards) is None


async def test_choices_become_buttons_and_a_click_runs_that_command(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    [reply] = await run_command(slack, fake_api, "topics", "topics")
    [actions] = [b for b in reply["blocks"] if b["type"] == "actions"]
    buttons = actions["elements"]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Economy", "subscribe economy"),
        ("Trade", "subscribe trade"),
    ]
    status, _ = await slack.button(
        buttons[1]["value"],
        action_id=buttons[1]["action_id"],
        response_url=fake_api.response_url("click"),
    )
    assert status == 200
    await fake_api.wait_for(lambda: bool(fake_api.responses["click"]))
    assert commands.requests[-1].name == "subscribe"
    assert commands.requests[-1].args == ("trade",)
    assert commands.subscriptions[NEWS] == ["trade"]
    assert fake_api.responses["click"][0]["text"].startswith("Subscribed to trade")


async def test_a_card_link_click_is_acked_without_a_command(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    status, _ = await slack.button(
        "", action_id="open_card_0", response_url=fake_api.response_url("link")
    )
    assert status == 200
    assert commands.requests == []


async def test_a_failing_core_still_answers_the_user(
    slack: SlackRequests, fake_api: FakeSlackApi
) -> None:
    [reply] = await run_command(slack, fake_api, "boom", "boom")
    assert "went wrong" in reply["text"]


async def test_app_mention_answers_with_help(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    status, _ = await slack.event(
        {
            "type": "app_mention",
            "user": "U0ALICE",
            "text": "<@U0BOT> hello",
            "ts": "1700000000.000200",
            "channel": "C0NEWS",
            "event_ts": "1700000000.000200",
        }
    )
    assert status == 200
    await fake_api.wait_for(lambda: bool(fake_api.calls_to("chat.postEphemeral")))
    [call] = fake_api.calls_to("chat.postEphemeral")
    assert call.params["user"] == "U0ALICE"
    assert call.params["channel"] == "C0NEWS"
    assert call.params["text"].startswith("Commands:")
    assert commands.requests[0].name == "help"
    # Bolt checked the token against SLACK_API_URL, never the real Slack
    assert fake_api.calls_to("auth.test")


async def test_app_home_shows_the_users_subscriptions(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    commands.subscriptions[ChatRef("slack", "D0HOME")] = ["climate"]
    await slack.event(
        {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0HOME", "tab": "home"}
    )
    await fake_api.wait_for(lambda: "U0ALICE" in fake_api.home_views)
    texts = [b["text"]["text"] for b in fake_api.home_views["U0ALICE"]["blocks"] if "text" in b]
    assert "Subscriptions: climate" in texts


async def test_a_bad_signature_is_refused_and_changes_nothing(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    url = fake_api.response_url("forged")
    status, _ = await slack.command("subscribe climate", response_url=url, secret="wrong")
    assert status == 401
    status, _ = await slack.command("subscribe climate", response_url=url, signed=False)
    assert status == 401
    assert commands.requests == []
    assert fake_api.responses["forged"] == []


async def test_a_stale_timestamp_is_refused_and_changes_nothing(
    slack: SlackRequests, fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    stale = int(time.time()) - 6 * 60  # Slack's replay window is 5 minutes
    url = fake_api.response_url("replay")
    status, _ = await slack.command("subscribe climate", response_url=url, timestamp=stale)
    assert status == 401
    status, _ = await slack.event(
        {"type": "app_mention", "user": "U1", "channel": "C1"}, timestamp=stale
    )
    assert status == 401
    assert commands.requests == []
    assert fake_api.calls == []


def test_reply_messages_stay_within_block_kit_limits() -> None:
    long_text = ("A sentence of plain text with <angle> & ampersand. " * 400).strip()
    choices = tuple(Choice(f"Topic {i} " + "x" * 80, f"subscribe t{i}") for i in range(30))
    cards = tuple(make_card(f"Card {i}") for i in range(40))
    messages = reply_messages(Reply(long_text, choices=choices, cards=cards))
    assert len(messages) <= 5
    for message in messages:
        assert block_kit_problem({"text": message.text, "blocks": message.blocks}) is None
    first = messages[0].blocks
    sections = [b for b in first if b["type"] == "section"]
    assert len(sections) > 1  # split, not truncated to one section
    buttons = [e for b in first if b["type"] == "actions" for e in b["elements"]]
    assert len(buttons) == 30
    assert "more stories" in messages[-1].text


def test_home_view_is_a_home_view() -> None:
    view = home_view(Reply("Subscriptions: <none>"))
    assert view["type"] == "home"
    assert view["blocks"][1]["text"]["text"] == "Subscriptions: &lt;none&gt;"


def test_bot_token_without_signing_secret_or_app_token_fails_fast() -> None:
    api = FakeSlackApi()
    api.port = 9
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        build_slack_adapter(slack_settings(api, SLACK_SIGNING_SECRET=None), RecordingCommands())
    with pytest.raises(SlackConfigError, match="xapp-"):
        build_slack_adapter(
            slack_settings(api, SLACK_APP_TOKEN="xoxb-wrong-place"), RecordingCommands()
        )
    with pytest.raises(SlackConfigError, match="xoxb-"):
        build_slack_adapter(slack_settings(api, SLACK_BOT_TOKEN="xapp-1-x"), RecordingCommands())


def test_socket_mode_needs_no_signing_secret() -> None:
    api = FakeSlackApi()
    api.port = 9
    settings = slack_settings(api, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN="xapp-1-A-1-x")
    adapter = build_slack_adapter(settings, RecordingCommands())
    assert isinstance(adapter, SlackAdapter)
    assert adapter.mode == "socket"
    assert adapter.sender.platform == "slack"
    assert adapter.client.base_url == api.base_url


def test_secrets_stay_out_of_the_settings_repr() -> None:
    api = FakeSlackApi()
    api.port = 9
    assert "xoxb-test-token" not in repr(slack_settings(api))


@pytest.mark.parametrize(
    ("core", "slack"),
    [
        ("Send /subscribe to start", "Send /digest subscribe to start"),
        ("/unsubscribe all stops everything", "/digest unsubscribe all stops everything"),
        ("/digest shows the latest", "/digest now shows the latest"),
        ("(/digest trade for one topic)", "(/digest now trade for one topic)"),
        ("Send /help.", "Send /digest help."),
        ("/settings timezone Europe/Berlin", "/digest settings timezone Europe/Berlin"),
        ("see https://x.example/list and a/topics", "see https://x.example/list and a/topics"),
        ("/subscribe/x /listing", "/subscribe/x /listing"),
        ("I don't know /frobnicate.", "I don't know /frobnicate."),
    ],
)
def test_core_commands_are_spelled_as_digest_subcommands(core: str, slack: str) -> None:
    assert slack_command_text(core) == slack


def test_reply_text_uses_the_slack_spelling() -> None:
    [message] = reply_messages(Reply(f"Send {SLACK('subscribe')} & {SLACK('list')}"))
    assert message.text == "Send /digest subscribe &amp; /digest list"


async def test_the_request_url_check_slack_makes_when_saving_it(slack: SlackRequests) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps({"token": "t", "challenge": challenge, "type": "url_verification"})
    status, answer = await slack.post(body, "application/json")
    assert status == 200
    assert json.loads(answer) == {"challenge": challenge}


class GatedCommands(RecordingCommands):
    """A core that takes its time: the answer waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def handle(self, request: CommandRequest) -> Reply:
        self.entered.set()
        await self.gate.wait()
        return await super().handle(request)


async def test_the_ack_does_not_wait_for_the_core_and_stop_finishes_the_reply(
    fake_api: FakeSlackApi,
) -> None:
    commands = GatedCommands()
    adapter = build_slack_adapter(slack_settings(fake_api), commands, host="127.0.0.1")
    await adapter.start()
    slack = SlackRequests(f"http://127.0.0.1:{adapter.port}/slack/events", SIGNING_SECRET)
    status, _ = await slack.command("list", response_url=fake_api.response_url("slow"))
    assert status == 200  # acked while the core is still busy
    await commands.entered.wait()
    assert fake_api.responses["slow"] == []

    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0)
    commands.gate.set()
    await stopping
    assert fake_api.responses["slow"][0]["text"] == "Subscriptions: none"
