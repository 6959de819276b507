"""Outgoing requests to addresses an administrator typed in, kept off internal networks.

Team webhooks and Slack-style URLs are set by admins through the API.  Without a guard a
stolen admin session could make the server POST to whatever listens on its own network
(cloud metadata services, databases with HTTP interfaces, the admin pages of routers).
``guarded_session`` refuses such requests with a reason that names the address:

* a host name is resolved by ``PublicResolver``, the connector's own resolver, which drops
  every address that is not public — so the check applies to the very addresses the
  connection is made to, and a name whose DNS answer changes between a check and the
  connection (DNS rebinding) gains nothing;
* an IP literal, which aiohttp connects to without a resolver, is checked by the
  ``public_literals`` middleware before the request leaves.

``routing.allow_private_targets`` turns the guard off for installations whose receivers live
on the internal network on purpose.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class TargetRefused(aiohttp.ClientError):
    """The request's host is, or resolves to, an address that is not public."""


def non_public(address: str) -> str | None:
    """What ``address`` (an IP literal) is when it is not public ("a loopback address"),
    or ``None`` if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 (mapped, 6to4, Teredo's client) is judged as that IPv4.
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:
            ip = inner
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local
    for kind, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                       ("link-local", ip.is_link_local), ("site-local", site_local),
                       ("private", ip.is_private), ("multicast", ip.is_multicast),
                       ("reserved", ip.is_reserved)):
        if flag:
            return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    return None if ip.is_global else "not a globally routable address"


def _refused(host: str, address: str, why: str) -> TargetRefused:
    return TargetRefused(
        f"refused to send to {host}: {address} is {why} (set routing.allow_private_targets = "
        "true if receivers on the internal network are intended)")


def check_literal(host: str) -> None:
    """Raise ``TargetRefused`` when ``host`` is an IP literal that is not public (a name is
    left to ``PublicResolver``)."""
    try:
        address = str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return
    why = non_public(address)
    if why is not None:
        raise _refused(host, address, why)


class PublicResolver(AbstractResolver):
    """The connector's resolver: the system's answer without its non-public addresses."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [r for r in found if non_public(r["host"]) is None]
        if not kept:
            first = found[0]["host"] if found else "no address"
            raise _refused(host, first, non_public(first) or "not public")
        return kept

    async def close(self) -> None:
        await self._inner.close()


async def public_literals(request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
                          ) -> aiohttp.ClientResponse:
    """Client middleware: ``check_literal`` before the request is sent."""
    check_literal(request.url.raw_host or "")
    return await handler(request)


def guarded_session(**options: Any) -> aiohttp.ClientSession:
    """A client session that reaches public addresses only (``options``: ClientSession's)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicResolver()),
                                 middlewares=(public_literals,), **options)
