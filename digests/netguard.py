"""The worker's guard against feeds that point it at internal addresses (SSRF).

A feed or an entry link may name ``http://169.254.169.254/`` (cloud metadata), an intranet
host, or a public name whose DNS answer changes between our check and the connection (DNS
rebinding). :class:`GuardedResolver` is the resolver of the worker's aiohttp connector: for
every new connection (so for every redirect hop to a new host) the name is resolved once, the
fetch is refused if any address is not public (:func:`refusal`), and the connector connects to
the addresses that were checked. The URL keeps its host name, so the ``Host`` header and TLS
SNI (and the certificate check) are the name's. IP literals are checked on every hop.

:func:`refusal` is a pure function, table-tested: loopback, private, link-local, unique-local,
multicast, reserved, unspecified, shared (CGNAT), documentation and benchmarking ranges, and any
IPv6 address that embeds such an IPv4 address (IPv4-mapped ``::ffff:127.0.0.1``,
IPv4-compatible ``::127.0.0.1``, 6to4 ``2002:7f00:1::``, NAT64 ``64:ff9b::7f00:1``, Teredo).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = [
    "AddressRefused",
    "Guard",
    "GuardedResolver",
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
            raise OSError(f"{host} has no address")
        return checked

    def check_literal(self, host: str) -> None:
        """Raise :class:`AddressRefused` when ``host`` is an IP literal that is refused (names
        are checked when they are resolved)."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        why = self.refuse(address)
        if why is not None:
            raise AddressRefused(host, str(address), why)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver for the worker: the addresses :class:`Guard` checked are the ones the
    connector connects to (aiohttp keeps the URL's name for ``Host``, SNI and the certificate).
    aiohttp does not ask a resolver about IP literals: :meth:`Guard.check_literal` covers them.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await self.guard.addresses(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None
