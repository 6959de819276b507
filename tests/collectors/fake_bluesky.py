"""A fake Jetstream: ``GET /subscribe`` replays fixture events over a WebSocket.

It honours ``cursor`` (events with ``time_us >= cursor``, as Jetstream replays inclusively),
``wantedCollections`` (commits only; identity and account events always go out) and
``wantedDids`` (every event).  Frames it cannot read (not JSON, no ``time_us``) travel with
the event before them, so they are sent once per position in the stream, like real frames;
a commit without a readable collection is not filtered out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky"


def load_frames(name: str = "jetstream_events.jsonl") -> list[str]:
    """The fixture's frames, one per non-empty line, exactly as the server sends them."""
    return [line for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line]


@dataclass
class FakeJetstream:
    """One fake Jetstream instance and what its clients asked for.

    ``after_replay``: ``"close"`` sends a close frame once the replay is done, ``"idle"``
    keeps the socket open until the client leaves.  ``drop_after`` cuts the TCP connection
    without a close frame after that many frames.  ``refuse`` answers the handshake with an
    HTTP status and headers instead of upgrading.
    """

    frames: list[str] = field(default_factory=load_frames)
    after_replay: Literal["close", "idle"] = "close"
    drop_after: int | None = None
    refuse: tuple[int, dict[str, str]] | None = None
    connections: list[MultiDict[str]] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application serving ``/subscribe``."""
        app = web.Application()
        app.router.add_get("/subscribe", self.subscribe)
        return app

    def replay(self, query: MultiDictProxy[str]) -> list[str]:
        """The frames a subscription with this query string receives, in order."""
        # Without a cursor a subscriber gets the live tail: here, the whole recording.
        cursor = int(query.get("cursor", 0))
        collections = set(query.getall("wantedCollections", []))
        dids = set(query.getall("wantedDids", []))
        sent: list[str] = []
        previous_sent = "cursor" not in query
        for frame in self.frames:
            try:
                event = json.loads(frame)
            except ValueError:
                event = None
            if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
                if previous_sent:
                    sent.append(frame)
                continue
            commit = event.get("commit") if event.get("kind") == "commit" else None
            collection = commit.get("collection") if isinstance(commit, dict) else None
            previous_sent = (
                event["time_us"] >= cursor
                and (not dids or event.get("did") in dids)
                and (not collections or collection is None or collection in collections))
            if previous_sent:
                sent.append(frame)
        return sent

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        """The WebSocket route."""
        self.connections.append(MultiDict(request.query))
        if self.refuse:
            status, headers = self.refuse
            return web.Response(status=status, headers=headers, text="refused")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        for n, frame in enumerate(self.replay(request.query)):
            if n == self.drop_after:
                break
            await ws.send_str(frame)
        if self.drop_after is not None:
            assert request.transport is not None
            request.transport.close()  # no close frame: the connection just goes away
            return ws
        if self.after_replay == "idle":
            async for _ in ws:
                pass  # wait for the client to close
        else:
            await ws.close()
        return ws
