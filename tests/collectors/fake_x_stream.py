"""A fake X API v2 filtered stream for Tweepy: the rules endpoints and the stream itself.

Rules live in memory (seeded from ``fixtures/x_stream/rules.json``: another tool's rule, a
stale rule of ours and a current one) and are answered like X: ``GET`` lists them with
``meta.sent``/``meta.result_count``; ``POST`` takes an ``add`` list or a ``delete.ids``
body and answers with ``meta.summary`` and, per refused rule, an ``errors`` entry
(``DuplicateRule`` for a value already there).

The stream sends the lines of ``fixtures/x_stream/stream.jsonl`` as newline-delimited JSON,
each line's ``matching_rules`` filled with the current rule carrying its tag (a line whose
tag has no rule is not sent, as X only sends matches), with ``\\r\\n`` keep-alives between
lines and while idle.  Like X, a line once sent is gone: a reconnect goes on with the next.
``plan(...)`` decides what the next connections get: an error status with headers, or a
stream that drops (transport closed mid-body) or ends cleanly after some lines.
``inject(raw)`` puts a raw line (malformed JSON, an error object) into the backlog.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

FIXTURES = Path(__file__).parent / "fixtures" / "x_stream"
STREAM_LINES = [json.loads(line) for line in (FIXTURES / "stream.jsonl").read_text().splitlines() if line]
RULES = json.loads((FIXTURES / "rules.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
BEARER = "AAAAAAAAAAAAAAAAAAAAAPq7eAAAAAAAZ3mWq1xF%2Bn8vJ0mM4cG7bXhS0%3DfakeStreamToken0123456789abcdefghijkl"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"
KEEP_ALIVE = b"\r\n"


@dataclass
class Connection:
    """What one stream connection gets: an error answer, or lines then a drop/close/idle."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    after: int | None = None  # lines sent before the connection ends; None: stay open
    end: str = "drop"  # "drop": transport closed mid-body; "close": the body ends cleanly


def _sent() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


class FakeXStream:
    """In-memory filtered stream serving the routes Tweepy's streaming client uses."""

    def __init__(self) -> None:
        self.rules: dict[str, dict[str, str]] = {r["id"]: dict(r) for r in RULES["data"]}
        self.backlog: deque[dict[str, Any] | str] = deque(copy.deepcopy(STREAM_LINES))
        self.plans: deque[Connection] = deque()
        self.connects: list[dict[str, str]] = []  # query strings of every stream connection
        self.rule_posts: list[dict[str, Any]] = []  # bodies POSTed to the rules endpoint
        self.keep_alive_every = 0.05
        self.limit_reset = int(time.time()) + 900
        self._next_rule_id = 1857361062946201700

    # -- test controls -------------------------------------------------------------------

    def plan(self, *connections: Connection) -> None:
        """Queue what the next stream connections get, in order; then streams stay open."""
        self.plans.extend(connections)

    def inject(self, raw: str, position: int | None = None) -> None:
        """Put a raw line (sent as it is) into the backlog, at the end or at ``position``."""
        if position is None:
            self.backlog.append(raw)
        else:
            self.backlog.insert(position, raw)

    def rule_tags(self) -> dict[str, str]:
        """The current rules as tag → value."""
        return {r.get("tag", ""): r["value"] for r in self.rules.values()}

    # -- the app -------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application(middlewares=[self._auth])
        app.router.add_get(RULES_PATH, self.get_rules)
        app.router.add_post(RULES_PATH, self.post_rules)
        app.router.add_get(STREAM_PATH, self.stream)
        return app

    def _limit_headers(self, limit: int, remaining: int) -> dict[str, str]:
        return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
                "x-rate-limit-reset": str(self.limit_reset)}

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {BEARER}":
            return web.json_response(ERRORS["401"], status=401, content_type="application/problem+json")
        return await handler(request)

    async def get_rules(self, request: web.Request) -> web.Response:
        """GET /2/tweets/search/stream/rules."""
        meta: dict[str, Any] = {"sent": _sent(), "result_count": len(self.rules)}
        body: dict[str, Any] = {"meta": meta}
        if self.rules:
            body = {"data": list(self.rules.values()), "meta": meta}
        return web.json_response(body, headers=self._limit_headers(450, 449))

    async def post_rules(self, request: web.Request) -> web.Response:
        """POST /2/tweets/search/stream/rules with an ``add`` or a ``delete`` body."""
        body = await request.json()
        self.rule_posts.append(body)
        headers = self._limit_headers(450, 448)
        errors: list[dict[str, Any]] = []
        if "delete" in body:
            deleted = 0
            for rule_id in body["delete"]["ids"]:
                if self.rules.pop(rule_id, None) is not None:
                    deleted += 1
                else:
                    errors.append(json.loads(json.dumps(ERRORS["rule_not_found"]).replace("{id}", rule_id)))
            answer: dict[str, Any] = {"meta": {"sent": _sent(), "summary": {
                "deleted": deleted, "not_deleted": len(body["delete"]["ids"]) - deleted}}}
        else:
            created: list[dict[str, str]] = []
            invalid = 0
            for rule in body["add"]:
                value = rule.get("value", "")
                existing = next((r for r in self.rules.values() if r["value"] == value), None)
                if existing is not None:
                    errors.append(_fill(ERRORS["duplicate_rule"], value=value, id=existing["id"]))
                    continue
                if not value.strip() or len(value) > 512:
                    invalid += 1
                    errors.append(_fill(ERRORS["invalid_rule"], value=value))
                    continue
                self._next_rule_id += 1
                new = {"value": value, "id": str(self._next_rule_id)}
                if "tag" in rule:
                    new["tag"] = rule["tag"]
                self.rules[new["id"]] = new
                created.append({"value": new["value"], **({"tag": new["tag"]} if "tag" in new else {}),
                                "id": new["id"]})
            answer = {"meta": {"sent": _sent(), "summary": {
                "created": len(created), "not_created": len(body["add"]) - len(created),
                "valid": len(body["add"]) - invalid, "invalid": invalid}}}
            if created:
                answer["data"] = created
        if errors:
            answer["errors"] = errors
        status = 201 if "add" in body and answer["meta"]["summary"]["created"] else 200
        return web.json_response(answer, status=status, headers=headers)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """GET /2/tweets/search/stream: matching lines as NDJSON, keep-alives between."""
        self.connects.append(dict(request.query))
        plan = self.plans.popleft() if self.plans else Connection()
        if plan.status != 200:
            error = ERRORS.get(str(plan.status), ERRORS["503"])
            return web.json_response(error, status=plan.status, headers=plan.headers,
                                     content_type="application/problem+json")
        response = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8",
                                               **self._limit_headers(50, 49)})
        response.enable_chunked_encoding()
        await response.prepare(request)
        sent = 0
        try:
            while True:
                if plan.after is not None and sent >= plan.after:
                    break
                line = self._next_line()
                if line is None:
                    if plan.after is not None:
                        break
                    await response.write(KEEP_ALIVE)
                    await asyncio.sleep(self.keep_alive_every)
                    continue
                await response.write(line + b"\r\n")
                await response.write(KEEP_ALIVE)
                sent += 1
        except (ConnectionResetError, ConnectionError):
            return response  # the client hung up
        if plan.end == "drop":
            assert request.transport is not None
            request.transport.close()  # no final chunk: the client sees a cut body
        else:
            await response.write_eof()
        return response

    def _next_line(self) -> bytes | None:
        """The next line X would send, with ``matching_rules`` pointing at live rules."""
        while self.backlog:
            item = self.backlog.popleft()
            if isinstance(item, str):
                return item.encode()
            by_tag = {r.get("tag"): r["id"] for r in self.rules.values()}
            matching = [{"id": by_tag[m["tag"]], "tag": m["tag"]}
                        for m in item.get("matching_rules", []) if m["tag"] in by_tag]
            if not matching:
                continue  # no rule matches it any more: X never sends it
            return json.dumps({**item, "matching_rules": matching}, ensure_ascii=False).encode()
        return None


def _fill(template: dict[str, Any], **values: str) -> dict[str, Any]:
    text = json.dumps(template)
    for key, value in values.items():
        text = text.replace("{" + key + "}", json.dumps(value)[1:-1])
    return json.loads(text)
