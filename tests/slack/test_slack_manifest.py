"""config/slack-manifest.yml parses and matches what the adapter listens to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.slack import SLASH_COMMAND
from bot.slack_oauth import BOT_SCOPES
from tests.slack.slack_requests import SlackRequests

MANIFEST = Path(__file__).resolve().parents[2] / "config" / "slack-manifest.yml"


def load() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_declares_the_bot_scopes_it_needs() -> None:
    scopes = set(load()["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "chat:write.public",
        "app_mentions:read",
        "im:write",
    } <= scopes


def test_manifest_scopes_are_the_ones_the_install_asks_for() -> None:
    assert set(load()["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)
    text = MANIFEST.read_text(encoding="utf-8")
    assert "/slack/oauth_redirect" in text and "/slack/install" in text


def test_manifest_slash_command_matches_the_adapter() -> None:
    manifest = load()
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert "subscribe" in command["usage_hint"]
    assert len(command["usage_hint"]) <= 1000
    assert manifest["features"]["bot_user"]["display_name"]


def test_manifest_events_socket_mode_and_interactivity() -> None:
    manifest = load()
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


async def test_the_adapter_handles_every_event_the_manifest_subscribes(
    slack: SlackRequests,
) -> None:
    # Bolt answers 404 to an event no listener matches
    for event in load()["settings"]["event_subscriptions"]["bot_events"]:
        payload = {"type": event, "user": "U0ALICE", "channel": "D0X", "tab": "messages"}
        status, _ = await slack.event(payload)
        assert status == 200, event


def test_manifest_texts_fit_slacks_limits() -> None:
    # https://docs.slack.dev/reference/app-manifest: the long description must be 174-4000
    # characters or App Settings rejects the manifest
    display = load()["display_information"]
    assert 174 <= len(display["long_description"]) <= 4000
    assert len(display["description"]) <= 140
    assert len(display["name"]) <= 35
