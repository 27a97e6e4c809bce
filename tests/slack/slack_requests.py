"""Signed Slack requests for tests: what Slack itself POSTs to ``/slack/events``.

The signature is computed here, independently of Bolt: ``v0=`` + hex HMAC-SHA256 of
``v0:{timestamp}:{body}`` with the signing secret
(https://api.slack.com/authentication/verifying-requests-from-slack).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.slack.fake_slack_api import TEAM_ID


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackRequests:
    url: str  # http://127.0.0.1:PORT/slack/events
    secret: str

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        signed: bool = True,
    ) -> tuple[int, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts}
        if signed:
            headers["X-Slack-Signature"] = signature(secret or self.secret, ts, body)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body.encode(), headers=headers) as response,
        ):
            return response.status, await response.text()

    async def command(
        self,
        text: str,
        *,
        channel_id: str = "C0NEWS",
        channel_name: str = "news",
        user_id: str = "U0ALICE",
        response_url: str,
        team_id: str = TEAM_ID,
        **post: Any,
    ) -> tuple[int, str]:
        form = {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "team_domain": "fake",
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": "alice",
            "command": "/digest",
            "text": text,
            "api_app_id": "A0DIGEST",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **post)

    async def button(
        self,
        value: str,
        *,
        action_id: str = "digest_cmd_0",
        channel_id: str = "C0NEWS",
        channel_name: str = "news",
        user_id: str = "U0ALICE",
        response_url: str,
    ) -> tuple[int, str]:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "fake"},
            "user": {"id": user_id, "username": "alice", "team_id": TEAM_ID},
            "api_app_id": "A0DIGEST",
            "token": "legacy-verification-token",
            "container": {"type": "message", "is_ephemeral": True, "channel_id": channel_id},
            "trigger_id": "1.2.3",
            "channel": {"id": channel_id, "name": channel_name},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "text": {"type": "plain_text", "text": value},
                    "value": value,
                    "action_ts": "1700000000.1",
                }
            ],
        }
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(
        self, event: dict[str, Any], *, team_id: str = TEAM_ID, **post: Any
    ) -> tuple[int, str]:
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": "A0DIGEST",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team_id, "user_id": "U0BOT", "is_bot": True, "enterprise_id": None}
            ],
        }
        return await self.post(json.dumps(envelope), "application/json", **post)
