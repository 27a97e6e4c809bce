"""Socket Mode through the real slack_sdk client: apps.connections.open, then a WebSocket."""

from __future__ import annotations

from bot.ports import ChatRef
from bot.slack import build_slack_adapter
from tests.slack.conftest import RecordingCommands, slack_settings
from tests.slack.fake_slack_api import FakeSlackApi


async def test_a_slash_command_over_socket_mode_is_acked_and_answered(
    fake_api: FakeSlackApi, commands: RecordingCommands
) -> None:
    settings = slack_settings(
        fake_api, SLACK_SIGNING_SECRET=None, SLACK_APP_TOKEN="xapp-1-A0DIGEST-1-secret"
    )
    adapter = build_slack_adapter(settings, commands, host="127.0.0.1")
    async with adapter:
        [opened] = fake_api.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == "Bearer xapp-1-A0DIGEST-1-secret"
        await fake_api.socket_send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "team_id": "T0TEAM",
                    "channel_id": "C0NEWS",
                    "channel_name": "news",
                    "user_id": "U0ALICE",
                    "command": "/digest",
                    "text": "subscribe climate",
                    "api_app_id": "A0DIGEST",
                    "response_url": fake_api.response_url("socket"),
                    "trigger_id": "1.2.3",
                },
            }
        )
        await fake_api.wait_for(lambda: bool(fake_api.responses["socket"]))
        await fake_api.wait_for(lambda: bool(fake_api.socket_acks))
    assert [ack["envelope_id"] for ack in fake_api.socket_acks] == ["env-1"]
    [request] = commands.requests
    assert (request.chat, request.name, request.args) == (
        ChatRef("slack", "C0NEWS"),
        "subscribe",
        ("climate",),
    )
    assert fake_api.responses["socket"][0]["text"].startswith("Subscribed to climate")
