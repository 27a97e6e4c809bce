"""The Slack installation and OAuth state tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.models import SlackInstallation
from bot.ports import ChatRef
from bot.store import SqlStore, Subscription
from bot.store.schema import slack_installations_t
from bot.store.slack_installs import UNINSTALLED
from bot.token_cipher import TokenCipher
from tests.bot.test_bot_store import NOW, any_store, card

__all__ = ["any_store"]  # the fixture, shared with the store's own tests

KEY = "jV5yw0lKpbqHUlRzJ3f9WvNqE8RkDJkZ9m0aCw3n0Gc="  # a Fernet key for these tests only


def install(workspace: str, token: str = "xoxb-1", encrypted: bool = False) -> SlackInstallation:
    return SlackInstallation(
        workspace=workspace,
        enterprise_id=None,
        team_id=workspace,
        is_enterprise_install=False,
        bot_token=token,
        token_encrypted=encrypted,
        installed_at=NOW,
        team_name=workspace.lower(),
    )


async def _pending(store: SqlStore, chat_ids: list[str]) -> dict[str, int]:
    feed, _ = await store.add_feed("https://example.org/feed.xml")
    stored = await store.record_entries(feed.id, [(f"e{i}", card(i)) for i in range(2)], NOW)
    ids = {}
    for chat_id in chat_ids:
        sub = await store.save_subscription(Subscription(chat=ChatRef("slack", chat_id)))
        assert sub.id is not None
        ids[chat_id] = sub.id
        await store.enqueue([(sub.id, c.id, NOW) for c in stored], NOW)
    return ids


async def test_uninstall_stops_that_workspace_only(any_store: SqlStore) -> None:
    store = any_store
    await store.save_slack_installation(install("T1"))
    await store.save_slack_installation(install("T2", "xoxb-2"))
    # "T1:C1" and "T10:C1" share a prefix: the workspace boundary is the separator
    ids = await _pending(store, ["T1:C1", "T1:D1", "T2:C1", "T10:C1", "C1"])

    assert await store.uninstall_slack_workspace("T1", NOW) == (2, 4)
    assert await store.find_slack_installation("T1") is None
    assert await store.find_slack_installation("T2") is not None
    for chat_id, active in [("T1:C1", False), ("T1:D1", False), ("T2:C1", True),
                            ("T10:C1", True), ("C1", True)]:  # fmt: skip
        sub = await store.get_subscription(ChatRef("slack", chat_id))
        assert sub is not None and sub.active is active, chat_id
    claimed = await store.claim_due(NOW, lease_seconds=60, limit=100, platforms=["slack"])
    assert {i.subscription.id for i in claimed} == {ids["T2:C1"], ids["T10:C1"], ids["C1"]}
    async with store.engine.connect() as conn:
        t1 = slack_installations_t.c.workspace == "T1"
        row = (await conn.execute(sa.select(slack_installations_t).where(t1))).first()
    assert row is not None and row.bot_token is None  # the dead token is not kept


async def test_a_reinstall_starts_clean(any_store: SqlStore) -> None:
    store = any_store
    await store.save_slack_installation(install("T1"))
    await _pending(store, ["T1:C1"])
    kept = await store.save_subscription(
        Subscription(chat=ChatRef("slack", "T1:C2"), active=False, deactivated_reason="by hand")
    )
    await store.uninstall_slack_workspace("T1", NOW)
    await store.save_slack_installation(install("T1", "xoxb-new"))
    assert await store.get_subscription(ChatRef("slack", "T1:C1")) is None
    assert await store.get_subscription(ChatRef("slack", "T1:C2")) == kept
    found = await store.find_slack_installation("T1")
    assert found is not None and found.bot_token == "xoxb-new"
    sub = await store.get_subscription(ChatRef("slack", "T1:C1"))
    assert sub is None or sub.deactivated_reason != UNINSTALLED


async def test_a_token_is_stored_encrypted(any_store: SqlStore) -> None:
    cipher = TokenCipher(KEY)
    stored, encrypted = cipher.encrypt("xoxb-secret-token")
    await any_store.save_slack_installation(install("T1", stored, encrypted))
    async with any_store.engine.connect() as conn:
        raw = (await conn.execute(sa.select(slack_installations_t.c.bot_token))).scalar()
    assert raw is not None and "xoxb" not in raw
    found = await any_store.find_slack_installation("T1")
    assert found is not None
    assert cipher.decrypt(found.bot_token, found.token_encrypted) == "xoxb-secret-token"
    # a rotated key list (new key first) still reads it
    rotated = TokenCipher("Jw0Yh4lZB4hYJ1n6a3cWcM2pNQjX0Pq3eYxXwGZ2jD8=," + KEY)
    assert rotated.decrypt(found.bot_token, True) == "xoxb-secret-token"


async def test_an_oauth_state_is_good_once_until_it_expires(any_store: SqlStore) -> None:
    store = any_store
    await store.issue_oauth_state("fresh", NOW + timedelta(minutes=10))
    await store.issue_oauth_state("stale", NOW + timedelta(minutes=10))
    assert await store.consume_oauth_state("fresh", NOW)
    assert not await store.consume_oauth_state("fresh", NOW)
    assert not await store.consume_oauth_state("stale", NOW + timedelta(minutes=11))
    assert not await store.consume_oauth_state("never-issued", NOW)


def test_a_wrong_key_is_a_clear_error() -> None:
    from bot.errors import SlackConfigError

    stored, _ = TokenCipher(KEY).encrypt("xoxb-x")
    with pytest.raises(SlackConfigError, match="does not decrypt"):
        TokenCipher("Jw0Yh4lZB4hYJ1n6a3cWcM2pNQjX0Pq3eYxXwGZ2jD8=").decrypt(stored, True)
    with pytest.raises(SlackConfigError, match="not set"):
        TokenCipher(None).decrypt(stored, True)
