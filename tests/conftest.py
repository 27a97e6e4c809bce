"""Suite-wide guards.

Tests never touch the internet: every feed, page, Bot API and Web API is a local server on
127.0.0.1. A connection to any other address fails loudly here instead of hanging or, worse,
quietly reaching a real service.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# On CI (CI=true, as .ci/run is started) property tests run a fixed set of examples, so a red
# run can be replayed; developers' runs keep exploring new ones.
hypothesis_settings.register_profile("digestbot-ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("digestbot-ci")

# Cards in threads for the suite (and the workers it starts as subprocesses, which inherit
# this): the default card process would be spawned, with its own imports, by every App that
# builds a card. tests/news/test_card_work.py runs the pool itself; a test that sets the
# variable keeps its value.
os.environ.setdefault("DIGESTBOT_CARD_PROCESSES", "0")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX paths (PostgreSQL socket, asyncio pipes)
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        raise RuntimeError(f"test tried to reach {address!r}: tests talk to 127.0.0.1 only")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        raise RuntimeError(f"test tried to reach {address!r}: tests talk to 127.0.0.1 only")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield
