"""Hacker News stories and comments through the public Algolia search API.

For each query the cursor keeps the newest ``created_at_i`` handed on and the objectIDs seen
at that second::

    {"queries": {"nimbus": {"after": 1795183391, "ids_at": ["46021502"]}}}

A run asks for hits at or after that second (leaving out those ids), up to the newest hit
found when the run starts.  Algolia pages through the first 1,000 hits of a search only, so
a time window holding more is split in halves until each part holds at most 1,000; parts
are read oldest first and handed on oldest first, so the cursor only moves forward and a
run that breaks off resumes where its last batch ended.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import aiohttp
from pydantic import Field

from domain import Author, RawPost, Rejection
from domain.errors import BadItem, NotConfigured, SourceUnavailable

from collectors.base import Batch, Collector, SourceOptions
from collectors.http_json import get_json
from collectors.post_format import MAX_TEXT, ascii_number, clean_text, epoch_time
from collectors.registry import register
from collectors.web import html_to_text

DEFAULT_BASE_URL = "https://hn.algolia.com"
#: Seconds a hit's ``created_at_i`` may be ahead of our clock (Algolia's clock and ours differ).
HIT_TIME_SLACK = 3600.0
#: Algolia serves hits of one search up to this position and no further.
PAGINATION_LIMIT = 1000
ITEM_URL = "https://news.ycombinator.com/item?id={}"


@dataclass
class _Mark:
    """How far one query has been handed on: the newest second, and the ids at that second."""

    after: int | None = None
    ids_at: set[str] = field(default_factory=set)

    def passed(self, t: int, object_id: str) -> bool:
        """Whether this hit was handed on before."""
        if self.after is None:
            return False
        return t < self.after or (t == self.after and object_id in self.ids_at)

    def advance(self, t: int, object_id: str) -> None:
        """Count this hit as handed on."""
        if self.after is None or t > self.after:
            self.after, self.ids_at = t, {object_id}
        elif t == self.after:
            self.ids_at.add(object_id)

    def as_cursor(self) -> dict[str, Any] | None:
        """The mark as it is stored; ``None`` before anything was handed on."""
        return None if self.after is None else {"after": self.after, "ids_at": sorted(self.ids_at)}


class _RunCapped(Exception):
    """The run's page or time cap is reached (the guard says why)."""


class HackerNewsOptions(SourceOptions):
    """The options of a ``hackernews`` source (see the class docstring)."""

    queries: list[str] | str | None = None
    tags: str | None = None
    max_items: int | None = Field(None, ge=1)
    hits_per_page: int | None = Field(None, ge=1)
    timeout: float | None = Field(None, gt=0)


@register("hackernews")
class HackerNews(Collector):
    """Stories and comments matching search queries, newest since the last run.

    Options: ``queries`` (list), ``tags`` (default ``(story,comment)``), ``base_url``
    (default https://hn.algolia.com), ``max_items`` per query on the first run (default 100),
    ``hits_per_page`` (default 100, at most 1000), ``timeout`` (seconds, default 30).
    """

    label = "Hacker News"

    options_model = HackerNewsOptions

    def __init__(self, key: str, options: Mapping[str, Any], http: Any = None,
                 clock: Callable[[], float] = time.time) -> None:
        """Check the options; ``NotConfigured`` says what is missing.  ``clock`` (epoch
        seconds) bounds hit times: one far ahead would become the cursor."""
        super().__init__(key, options, http)
        self.clock = clock
        queries = self.options.get("queries")
        if isinstance(queries, str):
            queries = [queries]
        if not queries or not all(isinstance(q, str) and q.strip() for q in queries):
            raise NotConfigured("hackernews needs 'queries', a list of search terms")
        self.queries = list(dict.fromkeys(q.strip() for q in queries))
        self.tags = str(self.options.get("tags") or "(story,comment)")
        self.base_url = str(self.options.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.max_items = max(1, int(self.options.get("max_items") or 100))
        self.hits_per_page = min(PAGINATION_LIMIT, max(1, int(self.options.get("hits_per_page") or 100)))
        self.timeout = aiohttp.ClientTimeout(total=float(self.options.get("timeout") or 30))
        if http is None:
            raise NotConfigured("needs an HTTP session")

    async def fetch(self, cursor: dict[str, Any] | None) -> AsyncIterator[Batch]:
        """Batches of hits per query, oldest first, each with the cursor reached after it."""
        self.begin_run()
        previous = (cursor or {}).get("queries") or {}
        state = {q: previous[q] for q in self.queries if q in previous}
        for query in self.queries:
            mark = _mark_from(state.get(query))
            windows = self._since(query, mark) if mark else self._first_run(query)
            running = mark or _Mark()  # moved on by _hand_on as hits are handed on
            try:
                async for posts, rejected in self._hand_on(query, windows, running):
                    if running.after is not None:
                        state[query] = running.as_cursor()
                    yield Batch(posts, {"queries": dict(state)}, rejected)
            except _RunCapped:
                return  # windows go oldest first: the cursor holds what was handed on

    # --- reading -------------------------------------------------------------------------------

    async def _first_run(self, query: str) -> AsyncIterator[tuple[list[Any], list[Rejection]]]:
        """The newest ``max_items`` hits, as one window."""
        hits: list[Any] = []
        newest: int | None = None
        per_page = min(self.hits_per_page, self.max_items)
        page = 0
        while len(hits) < self.max_items:
            # After the first page, pin the top so that new hits do not shift the pages.
            filters = [] if newest is None else [f"created_at_i<={newest}"]
            answer = await self._search(query, filters, page, per_page)
            found = answer["hits"]
            if page == 0 and found:
                newest = _int(found[0].get("created_at_i") if isinstance(found[0], dict) else None)
            hits.extend(found)
            page += 1
            if not found or page >= _int(answer.get("nbPages"), 0):
                break
        yield hits[: self.max_items], []

    async def _since(self, query: str, mark: _Mark) -> AsyncIterator[tuple[list[Any], list[Rejection]]]:
        """Every hit at or after the mark up to the newest one now, window by window."""
        probe = await self._search(query, [f"created_at_i>={mark.after}"], 0, 1)
        if not probe["hits"]:
            return
        top = probe["hits"][0]
        newest = _int(top.get("created_at_i") if isinstance(top, dict) else None)
        if newest is None:
            raise SourceUnavailable(f"hackernews answered a hit without created_at_i for {query!r}")
        assert mark.after is not None
        async for window in self._windows(query, mark.after - 1, newest):
            yield window

    async def _windows(self, query: str, low: int, high: int
                       ) -> AsyncIterator[tuple[list[Any], list[Rejection]]]:
        """Hits with ``low < created_at_i <= high``, in windows of at most 1,000, oldest first."""
        filters = [f"created_at_i>{low}", f"created_at_i<={high}"]
        first = await self._search(query, filters, 0, self.hits_per_page)
        total = _int(first.get("nbHits"), 0)
        if total > PAGINATION_LIMIT and high - low > 1:
            middle = low + (high - low) // 2
            async for window in self._windows(query, low, middle):
                yield window
            async for window in self._windows(query, middle, high):
                yield window
            return
        hits = list(first["hits"])
        for page in range(1, _int(first.get("nbPages"), 1)):
            found = (await self._search(query, filters, page, self.hits_per_page))["hits"]
            if not found:
                break
            hits.extend(found)
        rejected = []
        if total > PAGINATION_LIMIT:
            rejected.append(Rejection(
                f"hackernews:{query}:{high}",
                f"{total} hits within one second; only {PAGINATION_LIMIT} can be read"))
        yield hits, rejected

    async def _search(self, query: str, filters: list[str], page: int, per_page: int) -> dict[str, Any]:
        # Each search is a page of the run: the guard ends a run that a server keeps going
        # (an nbPages or nbHits that never ends) at the page or time cap.
        if not self.guard.next_page(f"hackernews:{query}", f"{','.join(filters)}|{page}|{per_page}"):
            raise _RunCapped
        params = {"query": query, "tags": self.tags, "hitsPerPage": str(per_page), "page": str(page)}
        if filters:
            params["numericFilters"] = ",".join(filters)
        answer = await get_json(self.http, f"{self.base_url}/api/v1/search_by_date", source="hackernews",
                                what=f"search {query!r}", params=params, timeout=self.timeout,
                                guard=self.guard)
        if not isinstance(answer, dict) or not isinstance(answer.get("hits"), list):
            raise SourceUnavailable("hackernews answered without a list of hits")
        return answer

    # --- handing on ----------------------------------------------------------------------------

    async def _hand_on(self, query: str, windows: AsyncIterator[tuple[list[Any], list[Rejection]]],
                       mark: _Mark) -> AsyncIterator[tuple[tuple[RawPost, ...], tuple[Rejection, ...]]]:
        """Batches of posts oldest first; ``mark`` is moved past each batch before it is yielded."""
        async for hits, rejected in windows:
            placed: dict[str, tuple[int, Any]] = {}
            for hit in hits:
                object_id, t = _place(hit, self.clock() + HIT_TIME_SLACK)
                if object_id is None or t is None:
                    rejected.append(Rejection(f"hackernews:{query}:{object_id or '?'}",
                                              "hit has no objectID or no created_at_i (an "
                                              "integer of seconds that is a date)"))
                elif not mark.passed(t, object_id):
                    placed.setdefault(object_id, (t, hit))  # pages may overlap when the index moves
            ordered = sorted(placed.items(), key=lambda item: (item[1][0], _id_order(item[0])))
            if not ordered and rejected:
                yield (), tuple(rejected)
            for start in range(0, len(ordered), self.hits_per_page):
                posts: list[RawPost] = []
                for object_id, (t, hit) in ordered[start:start + self.hits_per_page]:
                    try:
                        posts.append(_hit_post(hit, object_id, t))
                    except BadItem as exc:
                        rejected.append(Rejection(f"hackernews:{query}:{object_id}", exc.reason))
                    mark.advance(t, object_id)
                yield tuple(posts), tuple(rejected)
                rejected = []


def _mark_from(value: Any) -> _Mark | None:
    if not isinstance(value, dict) or _int(value.get("after")) is None:
        return None
    return _Mark(int(value["after"]), {str(i) for i in value.get("ids_at") or ()})


def _place(hit: Any, latest: float) -> tuple[str | None, int | None]:
    """A hit's objectID and time, ``None`` where missing (or a time no date can hold, or after
    ``latest``: the cursor must never move to it, or every later hit would count as passed)."""
    if not isinstance(hit, dict):
        return None, None
    object_id = hit.get("objectID")
    object_id = str(object_id) if isinstance(object_id, (str, int)) and str(object_id) else None
    t = _int(hit.get("created_at_i"))
    return object_id, t if t is not None and t <= latest and epoch_time(t) is not None else None


def _hit_post(hit: Mapping[str, Any], object_id: str, t: int) -> RawPost:
    """A ``RawPost`` from one Algolia hit."""
    author = hit.get("author")
    if not isinstance(author, str) or not author.strip():
        raise BadItem("hit has no author")
    title = hit.get("title") if isinstance(hit.get("title"), str) else ""
    body = hit.get("story_text") or hit.get("comment_text") or ""
    if not isinstance(body, str):
        raise BadItem("story_text/comment_text is not text")
    text = clean_text("\n\n".join(p for p in (title.strip(), html_to_text(body)) if p))[:MAX_TEXT]
    if not text:
        raise BadItem("hit has neither title nor text")
    story_id, parent_id = _int(hit.get("story_id")), _int(hit.get("parent_id"))
    if story_id is None and "story" in (hit.get("_tags") or ()):
        story_id = int(object_id) if ascii_number(object_id) else None
    engagement = {name: value for name, value in
                  (("points", _int(hit.get("points"))), ("comments", _int(hit.get("num_comments"))))
                  if value is not None}
    return RawPost(
        source="hackernews",
        external_id=object_id,
        author=Author(handle=author.strip()),
        text=text,
        created_at=datetime.fromtimestamp(t, timezone.utc),  # in range: _place checked it
        url=ITEM_URL.format(object_id),
        parent_id=str(parent_id) if parent_id is not None else None,
        thread_id=str(story_id) if story_id is not None else None,
        engagement=engagement,
    )


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ascii_number(value.strip().lstrip("-")):
        return int(value)
    return default


def _id_order(object_id: str) -> tuple[int, str]:
    return (int(object_id), "") if ascii_number(object_id) else (0, object_id)
