"""Answers to anonymous reads, kept until the store changes.

Most forum traffic is anonymous reading of the same few lists (a launch or a link from a
news site brings thousands of readers to ``/api/ideas?sort=top``); every one of them gets
the same bytes.  Those bytes are kept here, keyed by path and query, together with the
store's forum stamp (``Store.forum_stamp``) read *before* the answer was built.  An entry
is served only while the stamp is still the same, i.e. while nothing an idea list shows
(ideas, tags, authors) has been changed by any process since — so a cached answer is never
older than the newest such commit, there is nothing to invalidate by hand, and stored
mentions, sessions or rate-limit hits do not empty it.  Signed-in viewers never use it
(their answers carry their own votes).  A backend without a cheap stamp (MongoDB) caches
nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

#: answers larger than this are not kept (a page of 100 long ideas): memory stays bounded
MAX_BODY_BYTES = 256 * 1024


class PublicCache:
    """At most ``entries`` answers, least recently used dropped first."""

    def __init__(self, stamp: Callable[[], int | None], entries: int = 256) -> None:
        self._stamp = stamp
        self._limit = entries
        self._at: int | None = None  # the stamp the kept answers were built at
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self.hits = self.misses = 0

    def stamp(self) -> int | None:
        """The store's stamp now (``None``: do not cache); drops every answer built
        before the store last changed."""
        if self._limit <= 0:
            return None
        now = self._stamp()
        if now != self._at:
            self._kept.clear()
            self._at = now
        return now

    def get(self, key: str, stamp: int | None) -> bytes | None:
        """The kept answer for ``key`` if it was built at ``stamp``."""
        if stamp is None or stamp != self._at:
            return None
        body = self._kept.get(key)
        if body is None:
            self.misses += 1
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return body

    def put(self, key: str, stamp: int | None, body: bytes) -> None:
        """Keep ``body``, built from what the store held at ``stamp``."""
        if stamp is None or stamp != self._at or len(body) > MAX_BODY_BYTES:
            return
        self._kept[key] = body
        self._kept.move_to_end(key)
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)
