"""The SSRF guard: which addresses are refused (a table), and over real sockets that the
connection goes to the address that was checked, on every redirect hop, with the name kept in
the ``Host`` header."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from digests.config import PipelineConfig
from digests.errors import FetchError
from digests.http import Fetcher
from digests.netguard import Guard, IPAddress, refusal
from tests.news.hostile_server import HostileSite, Route, hostile

__all__ = ["hostile"]

PUBLIC_ONLY = PipelineConfig(
    connect_timeout=2, read_timeout=2, total_timeout=5, allow_private_addresses=False
)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.7", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "not globally routable"),  # shared address space (CGNAT)
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "private"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "private"),  # documentation
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "unique-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1, loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254, link-local"),
        ("::127.0.0.1", "IPv4-compatible 127.0.0.1, loopback"),
        ("::10.0.0.1", "IPv4-compatible 10.0.0.1, private"),
        ("2002:7f00:1::", "6to4 127.0.0.1, loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 169.254.169.254, link-local"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo 192.0.2.45, private"),
    ],
)
def test_refused_addresses(address: str, why: str) -> None:
    assert refusal(ipaddress.ip_address(address)) == why


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "[::1]", "[::127.0.0.1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "localhost"],
)
async def test_a_local_server_is_refused_before_any_request(
    hostile: HostileSite, host: str
) -> None:
    hostile.add("/admin", Route(b"secret"))
    async with Fetcher(PUBLIC_ONLY) as fetcher:
        with pytest.raises(FetchError, match="private address"):
            await fetcher.get(f"http://{host}:{hostile.port}/admin")
    assert hostile.requests == []


class _Rebinding:
    """A DNS server that answers ``first`` once, then ``later``: what a rebinding attacker runs.
    Only ``first`` counts as public here (both are really loopback, so the test can connect)."""

    def __init__(self, first: str, later: str) -> None:
        self.first, self.later = first, later
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return [self.first if len(self.lookups) == 1 else self.later]

    def refuse(self, address: IPAddress) -> str | None:
        return None if str(address) == self.first else "not the checked address"


async def test_the_connection_goes_to_the_checked_address_with_the_name_kept(
    hostile: HostileSite,
) -> None:
    hostile.add("/feed", Route(b"<rss/>"))
    dns = _Rebinding("127.0.0.1", "127.0.0.2")
    guard = Guard(resolve=dns.resolve, refuse=dns.refuse)
    async with Fetcher(PUBLIC_ONLY, guard=guard) as fetcher:
        # "feed.test" exists only in our resolver: the system's would fail.
        resource = await fetcher.get(f"http://feed.test:{hostile.port}/feed")
    assert resource.content == b"<rss/>"
    assert dns.lookups == ["feed.test"]  # one lookup: no second answer to be rebound to
    assert hostile.requests == [("/feed", f"feed.test:{hostile.port}")]


async def test_every_redirect_hop_is_checked(hostile: HostileSite) -> None:
    hostile.add("/a", Route(status=302, location=f"http://rebound.test:{hostile.port}/secret"))
    hostile.add("/secret", Route(b"secret"))
    dns = _Rebinding("127.0.0.1", "127.0.0.2")
    guard = Guard(resolve=dns.resolve, refuse=dns.refuse)
    async with Fetcher(PUBLIC_ONLY, guard=guard) as fetcher:
        with pytest.raises(FetchError, match=r"rebound\.test is a private address \(127\.0\.0\.2"):
            await fetcher.get(f"http://start.test:{hostile.port}/a")
    assert dns.lookups == ["start.test", "rebound.test"]
    assert hostile.paths == ["/a"]


async def test_private_addresses_allowed_reads_local_servers(hostile: HostileSite) -> None:
    hostile.add("/ok", Route(b"fine"))
    async with Fetcher(replace(PUBLIC_ONLY, allow_private_addresses=True)) as fetcher:
        assert (await fetcher.get(hostile.base + "/ok")).content == b"fine"


@pytest.mark.parametrize(
    "url",
    [
        "http://exa\x00mple.com/",
        "http://[::1/feed",
        "http://xn--/",
        "http://a/" + "b" * 70_000,
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://127.1/",
        "http://0x7f.0.0.1/",
    ],
)
async def test_urls_that_cannot_be_fetched_are_fetch_errors(url: str) -> None:
    async with Fetcher(PUBLIC_ONLY) as fetcher:
        with pytest.raises(FetchError):
            await fetcher.get(url)
