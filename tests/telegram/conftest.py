"""Fixtures for the Telegram tests: the fake Bot API server and a PTB bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.telegram_request import AiohttpRequest
from tests.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(DEFAULT_TOKEN, base_url=fake.base_url, request=AiohttpRequest()) as ptb_bot:
        yield ptb_bot
