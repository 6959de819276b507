"""A small closed-loop HTTP/1.1 load generator, in the spirit of ``wrk``.

Each of ``connections`` keep-alive connections sends one request, waits for the whole
answer, then sends the next, for a number of seconds; the latency of every answer is kept.
It speaks just enough HTTP/1.1 for a benchmark (Content-Length and chunked bodies) over
asyncio protocols, with the requests encoded to bytes before the clock starts, so that
the generator costs the server's machine a small share of what an HTTP client library
would: with a client library on the same two cores the generator, not the server, set
the figures (and its own event-loop queueing showed up as server latency).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RequestMaker = Callable[[], bytes]


def request_bytes(method: str, path: str, host: str, headers: dict[str, str] | None = None,
                  body: bytes = b"") -> bytes:
    """One encoded HTTP/1.1 request (keep-alive)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Tally:
    """What one load run saw."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of answers with status < 400
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # status >= 400, broken connections, unreadable answers


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending requests one after another until ``deadline``."""

    def __init__(self, make: RequestMaker, deadline: float, tally: Tally, done: asyncio.Future) -> None:
        self.make, self.deadline, self.tally, self.done = make, deadline, tally, done
        self.buffer = bytearray()
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    # -- protocol callbacks -----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            answer = self._take_answer()
            if answer is None:
                return
            if answer < 0:
                self._fail()
                return
            now = time.perf_counter()
            self.tally.statuses[answer] = self.tally.statuses.get(answer, 0) + 1
            if answer < 400:
                self.tally.latencies.append(now - self.started)
            else:
                self.tally.errors += 1
            if now >= self.deadline:
                self._finish()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if time.perf_counter() < self.deadline:
                self.tally.errors += 1
            self.done.set_result(None)

    # -- helpers ----------------------------------------------------------------------
    def _send(self) -> None:
        assert self.transport is not None
        self.started = time.perf_counter()
        self.transport.write(self.make())

    def _finish(self) -> None:
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def _fail(self) -> None:
        self.tally.errors += 1
        self._finish()

    def _take_answer(self) -> int | None:
        """The status of a whole answer at the head of the buffer (removed from it),
        None while incomplete, -1 when unreadable."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        try:
            status = int(head[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            return -1
        length, chunked = 0, False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        start = end + 4
        if not chunked:
            if len(self.buffer) < start + length:
                return None
            del self.buffer[:start + length]
            return status
        position = start
        while True:  # chunked: size line, data, CRLF ... until the 0-size chunk
            line_end = self.buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[position:line_end]).split(b";")[0], 16)
            if size == 0:
                trailer = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer < 0:
                    return None
                del self.buffer[:trailer + 4]
                return status
            position = line_end + 2 + size + 2
            if len(self.buffer) < position:
                return None


async def run_load(host: str, port: int, make: RequestMaker, seconds: float, connections: int) -> Tally:
    """Keep ``connections`` connections busy with ``make()`` requests for ``seconds``."""
    loop = asyncio.get_running_loop()
    tally = Tally()
    began = time.perf_counter()
    deadline = began + seconds
    waits = []
    for _ in range(connections):
        done: asyncio.Future = loop.create_future()
        try:
            await loop.create_connection(lambda d=done: _Connection(make, deadline, tally, d), host, port)
        except OSError:
            tally.errors += 1
            continue
        waits.append(done)
    await asyncio.gather(*waits)
    tally.seconds = time.perf_counter() - began
    return tally
