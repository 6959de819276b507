"""A fake of the Hacker News Algolia API: ``GET /api/v1/search_by_date``.

It behaves like Algolia where the collector depends on it: hits newest first, ``tags`` with
``(a,b)`` meaning either, ``numericFilters`` ANDed, and pagination that stops at the first
1,000 hits (``nbPages`` is capped and later pages come back empty).  Hits are copies of the
captured ones in ``fixtures/hackernews/search_by_date.json`` with new ids and times.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.collectors.http_faults import Faults

FIXTURE = Path(__file__).parent / "fixtures" / "hackernews" / "search_by_date.json"
PAGINATION_LIMIT = 1000
_OPS = {">=": operator.ge, "<=": operator.le, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
        "=": operator.eq}
_FILTER = re.compile(r"^\s*(\w+)\s*(>=|<=|!=|>|<|=)\s*(-?\d+)\s*$")


def captured() -> dict[str, Any]:
    """The captured search_by_date answer (a fresh copy)."""
    return copy.deepcopy(_captured())


@functools.cache
def _captured() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Algolia:
    """The fake index and the requests made to it."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    base_url: str = ""  # set once the server runs

    def load_captured(self) -> list[dict[str, Any]]:
        """Put the captured hits in the index."""
        hits = captured()["hits"]
        self.hits.extend(hits)
        return hits

    def add(self, object_id: int, created_at_i: int, kind: str = "comment", **fields: Any) -> dict[str, Any]:
        """A copy of a captured story or comment with a new id and time."""
        template = next(h for h in _captured()["hits"] if kind in h["_tags"])
        hit = copy.deepcopy(template)
        hit.update(objectID=str(object_id), created_at_i=created_at_i, created_at=_iso(created_at_i),
                   updated_at=_iso(created_at_i))
        if kind == "story":
            hit["story_id"] = object_id
            hit["_tags"] = [f"story_{object_id}" if t.startswith("story_") else t for t in hit["_tags"]]
        hit.update(fields)
        self.hits.append(hit)
        return hit

    @staticmethod
    def _matches(hit: dict[str, Any], words: list[str], tag_groups: list[list[str]],
                 filters: list[tuple[str, Any, int]]) -> bool:
        for name, op, value in filters:
            actual = hit.get(name)
            if not isinstance(actual, int) or not op(actual, value):
                return False
        if any(not set(group) & set(hit.get("_tags", [])) for group in tag_groups):
            return False
        haystack = " ".join(str(hit.get(k) or "") for k in
                            ("title", "story_text", "comment_text", "url", "author", "story_title")).lower()
        return all(w in haystack for w in words)

    async def search_by_date(self, request: web.Request) -> web.Response:
        """Hits matching the query, newest first, one page of them."""
        q = request.query
        self.requests.append(dict(q))
        try:
            filters = [_parse_filter(f) for f in q.get("numericFilters", "").split(",") if f.strip()]
        except ValueError as exc:
            return web.json_response({"message": str(exc), "status": 400}, status=400)
        per_page = int(q.get("hitsPerPage", 20))
        page = int(q.get("page", 0))
        words, groups = q.get("query", "").lower().split(), _split_tags(q.get("tags", ""))
        found = [h for h in self.hits if self._matches(h, words, groups, filters)]
        found.sort(key=_newest_first_key, reverse=True)
        reachable = found[:PAGINATION_LIMIT]
        start = page * per_page
        body = {
            "exhaustive": {"nbHits": True, "typo": True},
            "exhaustiveNbHits": True,
            "exhaustiveTypo": True,
            "hits": reachable[start:start + per_page],
            "hitsPerPage": per_page,
            "nbHits": len(found),
            "nbPages": math.ceil(len(reachable) / per_page) if per_page else 0,
            "page": page,
            "params": urlencode({**q, "advancedSyntax": "true", "analyticsTags": "backend"}),
            "processingTimeMS": 1,
            "processingTimingsMS": {"_request": {"roundTrip": 12}, "total": 1},
            "query": q.get("query", ""),
            "serverTimeMS": 2,
        }
        return web.json_response(body)


def _newest_first_key(hit: dict[str, Any]) -> tuple[int, int]:
    object_id = str(hit.get("objectID", ""))
    return hit.get("created_at_i") or 0, int(object_id) if object_id.isdigit() else 0


def _parse_filter(text: str) -> tuple[str, Any, int]:
    match = _FILTER.match(text)
    if not match:
        raise ValueError(f"invalid numericFilters: {text!r}")
    return match[1], _OPS[match[2]], int(match[3])


def _split_tags(tags: str) -> list[list[str]]:
    """``story,(a,b)`` → [["story"], ["a", "b"]]: groups ANDed, members of a group ORed."""
    groups: list[list[str]] = []
    for part in re.findall(r"\([^)]*\)|[^,()]+", tags):
        names = [t.strip() for t in part.strip("()").split(",") if t.strip()]
        if names:
            groups.append(names)
    return groups


def make_app(index: Algolia) -> web.Application:
    """The aiohttp app of the fake Algolia API."""
    app = web.Application(middlewares=[index.faults.middleware])
    app.router.add_get("/api/v1/search_by_date", index.search_by_date)
    return app
