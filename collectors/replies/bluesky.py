"""Replies on Bluesky: an ``app.bsky.feed.post`` record with ``reply: {root, parent}``.

Signs in with ``com.atproto.server.createSession`` (identifier + app password, once per
writer), reads the parent's ``cid`` and its thread's root from
``app.bsky.feed.getPostThread``, and writes the post with ``com.atproto.repo.createRecord``
in our repository.  Links in the text get ``app.bsky.richtext.facet#link`` facets (byte
offsets in UTF-8) so they are clickable.  ``find_sent`` reads the parent's replies for one by
our DID with the same text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import regex
from pydantic import ConfigDict

from collectors.replies import (
    ReplyFailed,
    ReplyOutcomeUnknown,
    ReplySettings,
    ReplyTarget,
    ReplyWriter,
    SentReply,
    register_writer,
)
from collectors.replies.reply_http import request_json, same_text

DEFAULT_SERVICE = "https://bsky.social"
#: The post lexicon's bounds on ``text``: 300 graphemes (what a person sees as one character:
#: "\U0001F44D\U0001F3FD" or a family joined by ZWJs is one) and 3000 bytes of UTF-8.
MAX_POST_GRAPHEMES = 300
MAX_POST_BYTES = 3000
#: One extended grapheme cluster (Unicode's UAX #29), which ``re`` cannot match.
_GRAPHEME = regex.compile(r"\X")
_LINK = re.compile(r"https?://[^\s<>\"]+")
_POST = "app.bsky.feed.post"
#: XRPC errors of an access token that is no longer valid.
EXPIRED = ("ExpiredToken", "InvalidToken")


class BlueskyReplySettings(ReplySettings):
    """``[sources.reply]`` of a bluesky source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identifier_env: str
    app_password_env: str
    #: The account's PDS (the source's own ``base_url`` is the Jetstream firehose).
    service: str = DEFAULT_SERVICE


def graphemes(text: str) -> int:
    """How many user-perceived characters ``text`` has (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def too_long(text: str) -> str | None:
    """Why Bluesky would refuse ``text`` as a post's text, or ``None`` when it fits."""
    count = graphemes(text)
    if count > MAX_POST_GRAPHEMES:
        return (f"bluesky posts hold at most {MAX_POST_GRAPHEMES} characters "
                f"(this reply has {count})")
    size = len(text.encode())
    if size > MAX_POST_BYTES:
        return (f"bluesky posts hold at most {MAX_POST_BYTES} bytes of UTF-8 "
                f"(this reply has {size}: emoji sequences take many)")
    return None


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for each http(s) URL in ``text``, with UTF-8 byte offsets."""
    facets = []
    for match in _LINK.finditer(text):
        url = match.group().rstrip(".,;:!?)\u201d'")
        start = len(text[:match.start()].encode())
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(url.encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]})
    return facets


def _ref(post: Any) -> dict[str, str] | None:
    if isinstance(post, dict) and isinstance(post.get("uri"), str) and isinstance(post.get("cid"), str):
        return {"uri": post["uri"], "cid": post["cid"]}
    return None


def post_url(handle: str, uri: str) -> str:
    """The bsky.app address of the post ``uri`` by ``handle``."""
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


@register_writer("bluesky")
class BlueskyReplies(ReplyWriter):
    """Posts replies as the account of ``identifier`` with an app password."""

    credential_names = ("identifier", "app_password")
    settings_model = BlueskyReplySettings

    def __init__(self, credentials: Any, options: Any, http: Any = None) -> None:
        super().__init__(credentials, options, http)
        self.service = str(self.options.get("service") or DEFAULT_SERVICE).rstrip("/")
        self.clock: Callable[[], float] = time.time
        self._session: dict[str, str] | None = None

    async def _call(self, method: str, nsid: str, *, what: str, writes: bool = False,
                    json: Any = None, params: tuple[tuple[str, str], ...] = ()) -> Any:
        for attempt in range(2):
            session = await self._sign_in()
            try:
                return await request_json(
                    self.http, method, f"{self.service}/xrpc/{nsid}", platform="bluesky", what=what,
                    headers={"Authorization": f"Bearer {session['accessJwt']}"}, json=json,
                    params=params, writes=writes, clock=self.clock)
            except ReplyFailed as exc:
                # Access tokens live about two hours and the writer lives as long as the server:
                # an expired one was refused before anything was written, so sign in again once.
                if getattr(exc, "code", None) not in EXPIRED or attempt:
                    raise
                self._session = None
        raise AssertionError("unreachable")

    async def _sign_in(self) -> dict[str, str]:
        if self._session is None:
            body = await request_json(
                self.http, "POST", f"{self.service}/xrpc/com.atproto.server.createSession",
                platform="bluesky", what="sign-in",
                json={"identifier": self.credentials.get("identifier", ""),
                      "password": self.credentials.get("app_password", "")}, clock=self.clock)
            if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                     for k in ("accessJwt", "did", "handle")):
                raise ReplyFailed("bluesky: createSession answered without accessJwt, did and handle")
            self._session = {k: body[k] for k in ("accessJwt", "did", "handle")}
        return self._session

    async def _thread(self, target: ReplyTarget) -> dict[str, Any]:
        if not target.external_id.startswith("at://"):
            raise ReplyFailed(f"bluesky: {target.external_id!r} is not an at:// post URI")
        body = await self._call("GET", "app.bsky.feed.getPostThread", what="the thread",
                                params=(("uri", target.external_id), ("depth", "1"),
                                        ("parentHeight", "0")))
        thread = body.get("thread") if isinstance(body, dict) else None
        if not isinstance(thread, dict) or thread.get("$type") != "app.bsky.feed.defs#threadViewPost":
            kind = thread.get("$type") if isinstance(thread, dict) else None
            raise ReplyFailed(f"bluesky: the post cannot be replied to ({kind or 'no thread'}): "
                              "deleted, blocked or not visible")
        return thread

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our post with ``text`` among the replies to ``target``, or ``None``."""
        thread = await self._thread(target)
        did = (await self._sign_in())["did"]
        for reply in thread.get("replies") or ():
            post = reply.get("post") if isinstance(reply, dict) else None
            if not isinstance(post, dict):
                continue
            author = post.get("author") if isinstance(post.get("author"), dict) else {}
            record = post.get("record") if isinstance(post.get("record"), dict) else {}
            if author.get("did") == did and same_text(str(record.get("text") or ""), text):
                return SentReply(str(post["uri"]), post_url(str(author.get("handle") or did), str(post["uri"])))
        return None

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` in reply to ``target``, in the same thread (same root)."""
        refused = too_long(text)
        if refused:
            raise ReplyFailed(refused)
        thread = await self._thread(target)
        post = thread.get("post") if isinstance(thread.get("post"), dict) else {}
        parent = _ref(post)
        if parent is None:
            raise ReplyFailed("bluesky: the thread answered without the post's uri and cid")
        record = post.get("record") if isinstance(post.get("record"), dict) else {}
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        root = _ref(reply.get("root")) or parent  # a top-level post is its own root
        session = await self._sign_in()
        new: dict[str, Any] = {
            "$type": _POST, "text": text, "reply": {"root": root, "parent": parent},
            "createdAt": datetime.fromtimestamp(self.clock(), timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        facets = link_facets(text)
        if facets:
            new["facets"] = facets
        body = await self._call("POST", "com.atproto.repo.createRecord", what="the reply", writes=True,
                                json={"repo": session["did"], "collection": _POST, "record": new})
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str):
            raise ReplyOutcomeUnknown("bluesky accepted the reply but answered without its uri")
        return SentReply(body["uri"], post_url(session["handle"], body["uri"]))
