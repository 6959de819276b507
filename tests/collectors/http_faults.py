"""Faults a fake server can be told to answer with: 429, 5xx, 401, or a connection dropped mid-body.

Every fake app in this folder installs ``Faults.middleware``; a test plans a fault with
``faults.plan(path, ...)`` and the next matching request gets it instead of the real answer.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Fault:
    """One planned answer: a status with headers and body, or a dropped connection."""

    path: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    drop: bool = False
    times: int = 1
    after: int = 0  # let this many matching requests through first
    when: Callable[[web.Request], bool] | None = None


class Faults:
    """Planned faults, consumed in order by matching requests."""

    def __init__(self) -> None:
        self.planned: list[Fault] = []
        self.served: list[tuple[str, int | str]] = []
        #: Path with query and headers of every request the app saw, faulted or not.
        self.requests: list[tuple[str, dict[str, str]]] = []

    def plan(self, path: str, status: int = 500, *, headers: dict[str, str] | None = None,
             body: str | dict[str, Any] = "", drop: bool = False, times: int = 1, after: int = 0,
             when: Callable[[web.Request], bool] | None = None) -> Fault:
        """Answer the next ``times`` requests whose path starts with ``path`` with this fault."""
        text = json.dumps(body) if isinstance(body, dict) else body
        fault = Fault(path, status, dict(headers or {}), text, drop, times, after, when)
        self.planned.append(fault)
        return fault

    def clear(self) -> None:
        """Forget every fault not served yet."""
        self.planned.clear()

    def _match(self, request: web.Request) -> Fault | None:
        for fault in self.planned:
            if request.path.startswith(fault.path) and (fault.when is None or fault.when(request)):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self.planned.remove(fault)
                return fault
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Serve a planned fault when one matches, else the real handler."""
        self.requests.append((request.path_qs, dict(request.headers)))
        fault = self._match(request)
        if fault is None:
            return await handler(request)
        if fault.drop:
            self.served.append((request.path_qs, "drop"))
            return await drop_connection(request)
        self.served.append((request.path_qs, fault.status))
        content_type = "application/json" if fault.body.startswith(("{", "[")) else "text/plain"
        return web.Response(status=fault.status, text=fault.body, headers=fault.headers,
                            content_type=content_type)


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Start a 200 answer, send a few bytes of it and close the connection."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = 4096
    await resp.prepare(request)
    await resp.write(b'[{"id": ')
    assert request.transport is not None
    request.transport.close()
    return resp

