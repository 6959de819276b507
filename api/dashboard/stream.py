"""``/api/stream/mentions``: Server-Sent Events of newly stored mentions for open dashboards."""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Callable

import orjson
from aiohttp import web

from api.dashboard.access import require_staff
from api.contract import operation
from api.openapi.common import STAFF, header, query
from api.query_models import StreamFilters
from api.dashboard.query import dashboard_filters, live_filter, new_mention_passes
from api.dashboard.serialize import live_mention_json
from domain.ids import id_number
from api.keys import RUNTIME
from community.replies import ReplyDesk
from domain import Customer, Mention
from domain.errors import BadInput
from crmsphere.live import LiveBatch, MentionFilter

KEEPALIVE_SECONDS = 15.0
CATCH_UP_LIMIT = 500
#: A zlib stream header (deflate, 32 KiB window, no preset dictionary).
ZLIB_HEADER = b"\x78\x01"


def deflate_block(data: bytes) -> bytes:
    """``data`` as deflate blocks from a fresh compressor, ended by a sync flush.

    Such blocks never refer to earlier data and end on a byte boundary, so blocks made once
    can be appended to any number of deflate streams: one compression per batch serves every
    dashboard, and each stream carries about a seventh of the bytes (sending the bytes, not
    encoding them, was the fan-out's main cost).
    """
    comp = zlib.compressobj(1, zlib.DEFLATED, -zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)


_KEEPALIVE = b": keep-alive\n\n"
_KEEPALIVE_DEFLATED = deflate_block(_KEEPALIVE)


def accepts_deflate(request: web.Request) -> bool:
    """Whether the client takes ``Content-Encoding: deflate`` (browsers all do)."""
    for item in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = item.partition(";")
        if name.strip().lower() == "deflate":
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class EventCache:
    """Each new mention's event, encoded once and shared by every open stream.

    A live event is the same for every dashboard (filters only decide who gets it), so
    200 dashboards cost one JSON encoding per mention, not 200.
    """

    def __init__(self, size: int = 4096,
                 desk: Callable[[], ReplyDesk | None] = lambda: None) -> None:
        self.size = size
        #: The runtime's reply desk (made at start-up, after the routes): how a reply would go
        #: out is part of each event.
        self.desk = desk
        self._events: OrderedDict[int, bytes] = OrderedDict()
        # Keyed by the batch's identity and whether deflated; the batch is kept so that its
        # id is not reused.
        self._chunks: OrderedDict[tuple[int, MentionFilter, bool], tuple[LiveBatch, bytes]] = OrderedDict()

    def chunk(self, batch: LiveBatch, match: MentionFilter, deflated: bool = False) -> bytes:
        """Every event of ``batch`` that ``match`` lets through, joined (as a deflate block
        when ``deflated``); dashboards with the same filters (most watch everything) share
        one chunk."""
        key = (id(batch), match, deflated)
        found = self._chunks.get(key)
        if found is None or found[0] is not batch:
            if deflated:
                plain = self.chunk(batch, match)
                found = (batch, deflate_block(plain) if plain else b"")
            elif batch.updated:
                # Not filtered: a dashboard applies an update only to a mention it shows,
                # which may no longer match its filters.
                found = (batch, b"".join(_event(m, batch.customers, b"updated", self.desk())
                                         for m in batch.mentions))
            else:
                found = (batch, b"".join(self.event(m, batch.customers)
                                         for m in batch.mentions if match.matches(m)))
            self._chunks[key] = found
            if len(self._chunks) > 64:
                self._chunks.popitem(last=False)
        return found[1]

    def event(self, mention: Mention, customers: dict[str, Customer]) -> bytes:
        """The encoded event of ``mention`` (from the cache when another stream made it)."""
        if mention.id is None:
            return _event(mention, customers, desk=self.desk())
        found = self._events.get(mention.id)
        if found is None:
            found = self._events[mention.id] = _event(mention, customers, desk=self.desk())
            if len(self._events) > self.size:
                self._events.popitem(last=False)
        return found


EVENT_CACHE = web.AppKey("dashboard_event_cache", EventCache)


def _after_id(request: web.Request) -> int:
    # EventSource resends the last event id on reconnect; a first connect passes ?after=.
    # ASCII digits within 64 bits only: int() also reads "١٢" and "-1", and a number past 64
    # bits overflowed in the store's first read, after the 200 was sent (the stream just died).
    header = request.headers.get("Last-Event-ID")
    name, raw = ("Last-Event-ID", header) if header else ("after", request.query.get("after") or "0")
    after = id_number(raw)
    if after is None:
        raise BadInput(f"'{name}' must be a mention id (digits 0-9)", {"field": name, "value": raw[:40]})
    return after


def _event(mention: Mention, customers: dict[str, Customer], kind: bytes = b"mention",
           desk: ReplyDesk | None = None) -> bytes:
    # orjson: a fifth of the standard library's time, for every mention stored while a
    # dashboard is open.  It escapes line breaks inside strings, as an event's data line needs.
    data = orjson.dumps(live_mention_json(mention, customers, desk), option=orjson.OPT_UTC_Z)
    if kind != b"mention":
        # No id line: the browser's Last-Event-ID (where a reconnect catches up) stays put.
        return b"event: %s\ndata: %s\n\n" % (kind, data)
    return b"id: %d\nevent: mention\ndata: %s\n\n" % (mention.id or 0, data)


@operation("GET", "/api/stream/mentions", "Live mentions matching the stream's filters, as Server-Sent Events",
           ok={"type": "string"}, media_type="text/event-stream",
           query=StreamFilters,
           params=(query("after", {"type": "integer", "minimum": 0},
                         "catch up from after this mention id"),
                   header("Last-Event-ID", "sent by EventSource on reconnect; same as after",
                          required=False)),
           errors=("400", "401", "403", "503"), security=STAFF, tags=("dashboard",),
           description="Events: `ready` first, then `mention` events whose data is a "
                       "DashboardMention (without the listing-only fields). Deflate when the "
                       "client accepts it.")
async def stream_mentions(request: web.Request) -> web.StreamResponse:
    """GET /api/stream/mentions — ``mention`` events matching the dashboard's filters, and
    ``updated`` events for mentions that changed (topic labels)."""
    await require_staff(request)
    filters = dashboard_filters(request)
    after = _after_id(request)
    runtime = request.app[RUNTIME]
    if runtime.live is None:
        raise web.HTTPServiceUnavailable(reason="the live feed is not running")
    match = live_filter(filters)
    wanted = new_mention_passes(filters)
    # Subscribe before catching up, so nothing stored in between is missed (the
    # browser drops an id it already has).
    sub = await runtime.live.subscribe()
    deflated = accepts_deflate(request)
    cache = request.app[EVENT_CACHE]  # looked up once: ``request.app`` is not free per batch
    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no", "Vary": "Accept-Encoding"}
    if deflated:
        headers["Content-Encoding"] = "deflate"
    resp = web.StreamResponse(headers=headers)
    try:
        await resp.prepare(request)
        opening = b"retry: 1000\nevent: ready\ndata: {}\n\n"
        await resp.write(ZLIB_HEADER + deflate_block(opening) if deflated else opening)
        if after and wanted:
            missed = await runtime.store.mentions_after(after, CATCH_UP_LIMIT)
            ids = sorted({k.customer_id for m in missed for k in m.analysis.links})
            customers = await runtime.store.get_customers(ids) if ids else {}
            caught_up = b"".join(_event(m, customers, desk=runtime.replies) for m in missed
                                 if match.matches(m))
            if caught_up:
                await resp.write(deflate_block(caught_up) if deflated else caught_up)
        while True:
            try:
                batch = await sub.next(KEEPALIVE_SECONDS)
            except StopAsyncIteration:  # dropped as too slow, or shutting down
                break
            if batch is None:
                await resp.write(_KEEPALIVE_DEFLATED if deflated else _KEEPALIVE)
                continue
            if not wanted and not batch.updated:
                continue
            # One write per batch, encoded (and deflated) once for every dashboard with
            # these filters.
            chunk = cache.chunk(batch, match, deflated)
            if chunk:
                await resp.write(chunk)
    except ConnectionResetError:
        pass  # the dashboard was closed
    finally:
        sub.close()
    return resp
