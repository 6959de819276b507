"""Outgoing requests to addresses an administrator typed in, kept off internal networks.

Team webhooks and Slack-style URLs are set by admins through the API.  Without a guard a
stolen admin session could make the server POST to whatever listens on its own network
(cloud metadata services, databases with HTTP interfaces, the admin pages of routers).
The guard is an aiohttp client middleware: before a request leaves, the host is resolved
and every address it resolves to must be a public one; otherwise the request is refused
with a reason that names the address.  ``routing.allow_private_targets`` turns it off for
installations whose receivers live on the internal network on purpose.

A host whose DNS answer changes between this check and the connection (DNS rebinding)
could still slip through; the check makes the plain mistake and the plain attack fail.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import aiohttp


class TargetRefused(aiohttp.ClientError):
    """The request's host is, or resolves to, an address that is not public."""


def non_public(address: str) -> str | None:
    """What ``address`` (an IP literal) is when it is not public ("a loopback address"),
    or ``None`` if it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                       ("link-local", ip.is_link_local), ("private", ip.is_private),
                       ("multicast", ip.is_multicast), ("reserved", ip.is_reserved)):
        if flag:
            return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} address"
    return None if ip.is_global else "not a globally routable address"


async def check_host(host: str, port: int) -> None:
    """Raise ``TargetRefused`` unless every address of ``host`` is public."""
    try:
        addresses = {str(ipaddress.ip_address(host.strip("[]")))}
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise aiohttp.ClientConnectionError(f"cannot resolve {host}: {exc}") from None
        addresses = {info[4][0] for info in infos}
    for address in sorted(addresses):
        why = non_public(address)
        if why is not None:
            raise TargetRefused(
                f"refused to send to {host}: {address} is {why} "
                "(set routing.allow_private_targets = true if receivers on the internal "
                "network are intended)")


async def public_only(request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
                      ) -> aiohttp.ClientResponse:
    """Client middleware: ``check_host`` before the request is sent."""
    url = request.url
    await check_host(url.raw_host or "", url.port or (443 if url.scheme == "https" else 80))
    return await handler(request)
