"""The worker's guard against feeds that point it at internal addresses (SSRF).

A feed or an entry link may name ``http://169.254.169.254/`` (cloud metadata), an intranet
host, or a public name whose DNS answer changes between our check and the connection (DNS
rebinding). :class:`PinnedBackend` is the network layer of the HTTP client: for every new
connection (so for every redirect hop to a new host) it resolves the name once, refuses if any
address is not public (:func:`refusal`), and connects to the address it checked. The URL keeps
its host name, so the ``Host`` header and TLS SNI (and the certificate check) are the name's.

:func:`refusal` is a pure function, table-tested: loopback, private, link-local, unique-local,
multicast, reserved, unspecified, shared (CGNAT), documentation and benchmarking ranges, and any
IPv6 address that embeds such an IPv4 address (IPv4-mapped ``::ffff:127.0.0.1``,
IPv4-compatible ``::127.0.0.1``, 6to4 ``2002:7f00:1::``, NAT64 ``64:ff9b::7f00:1``, Teredo).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

__all__ = [
    "AddressRefused",
    "Guard",
    "PinnedBackend",
    "guarded_transport",
    "refusal",
    "system_resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class AddressRefused(Exception):
    """``host`` resolved to ``address``, which the worker must not connect to."""

    def __init__(self, host: str, address: str, why: str) -> None:
        super().__init__(f"{host} is a private address ({address}: {why})")
        self.host = host
        self.address = address
        self.why = why


def _v4_refusal(address: ipaddress.IPv4Address) -> str | None:
    for flag, why in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    ):
        if flag:
            return why
    return None if address.is_global else "not globally routable"


def _embedded_v4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped, "IPv4-mapped"
    if address.sixtofour is not None:
        return address.sixtofour, "6to4"
    if address.teredo is not None:
        return address.teredo[1], "Teredo"
    packed = address.packed
    if address in _NAT64:
        return ipaddress.IPv4Address(packed[12:]), "NAT64"
    if packed[:12] == bytes(12) and int(address) > 1:  # ::a.b.c.d (deprecated, RFC 4291)
        return ipaddress.IPv4Address(packed[12:]), "IPv4-compatible"
    return None


def refusal(address: IPAddress) -> str | None:
    """Why the worker must not connect to ``address``; ``None`` for a public address."""
    if isinstance(address, ipaddress.IPv4Address):
        return _v4_refusal(address)
    embedded = _embedded_v4(address)
    if embedded is not None:
        inner, kind = embedded
        why = _v4_refusal(inner)
        return f"{kind} {inner}, {why}" if why else None
    for flag, why in (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_site_local, "site-local"),
        (address.is_multicast, "multicast"),
        (address in _UNIQUE_LOCAL, "unique-local"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
    ):
        if flag:
            return why
    return None if address.is_global else "not globally routable"


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver, in its order, without repeats."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class Guard:
    """How the worker resolves names and which addresses it refuses (tests swap both)."""

    resolve: Resolve = system_resolve
    refuse: Callable[[IPAddress], str | None] = refusal

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to; raises :class:`AddressRefused`."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        answers = [str(literal)] if literal is not None else await self.resolve(host, port)
        checked = []
        for text in answers:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            why = self.refuse(address)
            if why is not None:
                raise AddressRefused(host, str(address), why)
            checked.append(str(address))
        if not checked:
            raise httpcore.ConnectError(f"{host} has no address")
        return checked


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the addresses :class:`Guard` checked for the host, never to what a second
    lookup might answer."""

    def __init__(self, guard: Guard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore calls it so
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.guard.addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took over {timeout}s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        last: Exception | None = None
        for address in addresses:  # the next address when one does not answer
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore calls it so
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not for feeds")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (exception mapping, streaming) over a pool that connects through
    :class:`PinnedBackend`. httpx does not take a network backend as an argument, so the pool
    it built is replaced by one that does; tests over real sockets cover the swap."""

    def __init__(self, guard: Guard, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )


def guarded_transport(guard: Guard, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    """An httpx transport whose every connection goes to an address ``guard`` checked."""
    return _PinnedTransport(guard, limits)
