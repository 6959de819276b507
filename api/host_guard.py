"""Answer only the host names this server serves (DNS rebinding).

A page on ``rebind.attacker.example`` can make its name resolve to 127.0.0.1 after it
loaded; the browser then sends its requests, with the attacker's name in ``Host``, to
this server as if they were same-origin.  Refusing every name not in
``server.allowed_hosts`` (plus the bind host) before any handler runs, with 421
Misdirected Request, leaves such a page nothing to read or change: pages, JSON, the
live stream and static files alike.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.typedefs import Middleware

from api.errors import Handler, error_response
from config.settings import ServerSettings

#: Host values whose verdict a server keeps (the names it serves, with and without ports).
VERDICTS_KEPT = 256
#: Bind addresses that mean "every interface": not a name anyone sends in Host.
_WILDCARDS = {"", "0.0.0.0", "::", "[::]", "*"}


def served_names(server: ServerSettings) -> frozenset[str]:
    """The host names (lower case, no port) that requests may carry: ``allowed_hosts`` and
    the bind host."""
    names = set(server.allowed_hosts)
    bind = server.host.strip().lower().rstrip(".")
    if bind not in _WILDCARDS:
        try:
            names.add(f"[{bind}]" if ipaddress.ip_address(bind).version == 6 else bind)
        except ValueError:
            names.add(bind)
    return frozenset(names)


def host_name(header: str) -> str | None:
    """The name part of a Host header (``[::1]`` kept bracketed), lower case, without port
    or a trailing dot; ``None`` when it is not a host at all."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1:]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        name, port = value[:end + 1], rest[1:]
    else:
        name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    name = name.rstrip(".")
    return name or None


def is_served(name: str | None, names: frozenset[str]) -> bool:
    """Whether ``name`` is one of ``names`` or under one of their ``*.`` wildcards."""
    if name is None:
        return False
    if name in names:
        return True
    return any(allowed.startswith("*.") and name.endswith(allowed[1:]) for allowed in names)


def host_guard(server: ServerSettings) -> Middleware:
    """The middleware refusing (421) a request whose Host is not a name this server serves."""
    names = served_names(server)
    # The verdict for each Host value seen, so that a request does not parse its Host again
    # (clients send the same few); bounded: a client making up names cannot grow it.
    verdicts: dict[str, bool] = {}

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        # request.host falls back to this machine's name when Host is missing: read the header.
        sent = request.headers.get("Host", "")
        served = verdicts.get(sent)
        if served is None:
            served = is_served(host_name(sent), names)
            if len(verdicts) < VERDICTS_KEPT:
                verdicts[sent] = served
        if served:
            return await handler(request)
        message = (f"this server does not answer for the host name {sent[:100]!r}; "
                   "add it to server.allowed_hosts if it is this server's own name")
        if request.path.startswith("/api/"):
            return error_response(421, "misdirected_request", message)
        return web.Response(status=421, text=f"421 Misdirected Request: {message}\n")

    return guard
