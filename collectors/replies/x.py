"""Replies on X through Tweepy's async client, as an account (OAuth 1.0a user context).

Credentials: ``consumer_key`` and ``consumer_secret`` of an X app with *Read and Write*
permission, and the ``access_token`` and ``access_token_secret`` of the account the replies
are posted as (the app's own tokens, or ones an account granted it).  Option read from the
source's table: ``base_url`` (``None`` = api.x.com; a test server or proxy otherwise).

A target is a tweet by its id.  ``send`` is POST /2/tweets with ``reply.in_reply_to_tweet_id``;
``find_sent`` reads the account's own timeline (GET /2/users/:id/tweets) newer than the
target, for a tweet replying to it with our text.  The timeline lists a new tweet at once;
recent search can lag behind by seconds, too long for telling a lost answer from no post.

X does not give back the text as sent: it HTML-escapes ``&<>``, shortens links to t.co and
may show the mentions of the conversation in front, so texts are compared without those.

HTTP: Tweepy's host is fixed; with ``base_url`` set, each call uses a private session whose
middleware sends api.twitter.com / api.x.com requests there (as the X collector does).
"""

from __future__ import annotations

import html
import logging
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient

from collectors.replies import (ReplyAuthFailed, ReplyFailed, ReplyRateLimited, ReplyTarget,
                                ReplyWriter, SentReply, register_writer)
from collectors.x import redirect_to
from collectors.x_errors import api_detail

log = logging.getLogger(__name__)

#: Timeline pages (100 tweets each) ``find_sent`` reads at most; X serves the newest 3,200.
TIMELINE_PAGES = 5
_TWEET_ID = re.compile(r"[1-9][0-9]{0,19}")
_LINK = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")
#: X's 403 details that refuse this reply (not the credentials), and what they mean.
_REFUSALS = (
    ("duplicate content", "X refuses a tweet with the same text as an earlier one of the account"),
    ("not allowed to reply", "the author limits who may reply to this post"),
    ("reply to this conversation is not allowed", "the author limits who may reply to this post"),
    ("deleted or not visible", "the post was deleted or is not visible to the account"),
)


def comparable(text: str) -> str:
    """A tweet's text without what X changes: escapes, t.co links, leading mentions, spacing."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _LEADING_MENTIONS.sub("", text.strip())
    text = _LINK.sub("<link>", text)
    return " ".join(text.split())


def _seconds_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name]) if headers.get(name) else None
    except ValueError:
        return None


@register_writer("x")
class XReplyWriter(ReplyWriter):
    """Posts replies on X as one account, through OAuth 1.0a user context."""

    credential_names = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")

    def __init__(self, credentials: Mapping[str, str], options: Mapping[str, Any],
                 http: Any = None, clock: Callable[[], float] = time.time) -> None:
        """``clock`` (epoch seconds) turns X's reset times into waits."""
        super().__init__(credentials, options, http)
        self.base_url: str | None = self.options.get("base_url")
        self.clock = clock
        self._account_id: str | None = None

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncClient]:
        """A Tweepy client signing as the account, on the right session for this call."""
        missing = self.missing_credentials()
        if missing:
            raise ReplyAuthFailed(f"x replies need {', '.join(missing)} of an app with Read and "
                                  f"Write permission and the account it posts as")
        client = AsyncClient(consumer_key=self.credentials["consumer_key"],
                             consumer_secret=self.credentials["consumer_secret"],
                             access_token=self.credentials["access_token"],
                             access_token_secret=self.credentials["access_token_secret"],
                             return_type=dict)
        if self.base_url:
            session = aiohttp.ClientSession(middlewares=(redirect_to(self.base_url),))
        elif self.http is not None:
            client.session = self.http
            yield client
            return
        else:
            session = aiohttp.ClientSession()
        client.session = session
        try:
            yield client
        finally:
            await session.close()

    async def _call(self, method: Callable[..., Any], *args: Any, doing: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; every failure Tweepy or aiohttp raises becomes a ``ReplyFailed``."""
        try:
            answer = await method(*args, **kwargs)
        except tweepy.TooManyRequests as exc:
            raise self._rate_limited(exc.response.headers, doing) from exc
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise _refused(exc, doing) from exc
        except tweepy.TwitterServerError as exc:
            raise ReplyFailed(f"x server error ({exc.response.status}) while {doing}; try again later") from exc
        except tweepy.HTTPException as exc:  # 400 (text too long...), 404 and the rest
            detail = api_detail(exc)
            raise ReplyFailed(f"x refused {doing} ({exc.response.status})"
                              + (f": {detail}" if detail else "")) from exc
        except aiohttp.ContentTypeError as exc:
            # An answer that is not JSON: an edge proxy's error page, or a 2xx X could not finish.
            if exc.status in (401, 403):
                raise ReplyAuthFailed(f"x refused the credentials ({exc.status}) while {doing}") from exc
            if exc.status == 429:
                raise self._rate_limited(exc.headers or {}, doing) from exc
            raise _Unreadable(f"x answered {exc.status} without JSON while {doing}", exc.status) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ReplyFailed(f"x unreachable while {doing}: {exc!r}") from exc
        except ValueError as exc:  # a JSON content type with a body that is not JSON
            raise _Unreadable(f"x answered something other than JSON while {doing}", None) from exc
        except tweepy.TweepyException as exc:
            raise ReplyFailed(f"x client failed while {doing}: {exc}") from exc
        except (TypeError, KeyError, AttributeError) as exc:
            # Tweepy's error handling breaks on error bodies not shaped as it expects.
            raise ReplyFailed(f"x answered an error Tweepy could not read while {doing} "
                              f"({type(exc).__name__}: {exc})") from exc
        if not isinstance(answer, dict):
            raise _Unreadable(f"x answered {doing} with JSON that is not an object", None)
        return answer

    def _rate_limited(self, headers: Mapping[str, str], doing: str) -> ReplyRateLimited:
        """The wait X announces: its 24-hour posting cap when that is spent, else the window's."""
        now = self.clock()
        what, reset_header = "too many requests", "x-rate-limit-reset"
        for who, prefix in (("the app's", "x-app-limit-24hour"), ("the account's", "x-user-limit-24hour")):
            if headers.get(f"{prefix}-remaining") == "0":
                what, reset_header = f"{who} 24-hour posting limit is spent", f"{prefix}-reset"
        reset = _seconds_header(headers, reset_header)
        wait = max(0.0, reset - now) if reset is not None else None
        return ReplyRateLimited(f"x: {what} while {doing}", retry_after=wait)

    async def _account(self, client: AsyncClient) -> str:
        """The id of the account the tokens belong to (asked once per writer)."""
        if self._account_id is None:
            me = await self._call(client.get_me, user_auth=True, doing="asking whose tokens these are")
            data = me.get("data")
            if not isinstance(data, dict) or not _TWEET_ID.fullmatch(str(data.get("id", ""))):
                raise ReplyFailed("x answered /2/users/me without the account's id")
            self._account_id = str(data["id"])
        return self._account_id

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our reply to ``target`` with ``text``, from the account's timeline newer than it."""
        try:
            return await self._find_sent(target, text)
        except (_Unreadable, _DuplicateText) as exc:  # only plain failures leave the writer
            raise ReplyFailed(exc.reason) from exc

    async def _find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        tweet_id = _target_id(target)
        wanted = comparable(text)
        async with self._client() as client:
            account = await self._account(client)
            token: str | None = None
            for _ in range(TIMELINE_PAGES):
                page = await self._call(
                    client.get_users_tweets, account, since_id=tweet_id, max_results=100,
                    tweet_fields=["referenced_tweets", "conversation_id", "created_at", "note_tweet"],
                    pagination_token=token, user_auth=True, doing="reading the account's posts")
                for tweet in page.get("data") if isinstance(page.get("data"), list) else []:
                    if _answers(tweet, tweet_id) and comparable(_full_text(tweet)) == wanted:
                        return SentReply(str(tweet["id"]), _tweet_url(str(tweet["id"])))
                meta = page.get("meta") if isinstance(page.get("meta"), dict) else {}
                token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
                if not token:
                    return None
        log.warning("x: our reply to %s not found in %d timeline pages", tweet_id, TIMELINE_PAGES)
        return None

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` as a reply to the tweet ``target``; the new tweet's id and address."""
        tweet_id = _target_id(target)
        if not text.strip():
            raise ReplyFailed("the reply is empty")
        if not text.isprintable() and any(0xD800 <= ord(c) <= 0xDFFF or c == "\x00" for c in text):
            # Half an emoji or a NUL cannot be sent as UTF-8; the library would fail mid-request.
            raise ReplyFailed("the reply holds characters that cannot be sent (a NUL or half of an emoji)")
        try:
            async with self._client() as client:
                answer = await self._call(client.create_tweet, text=text, in_reply_to_tweet_id=tweet_id,
                                          user_auth=True, doing=f"replying to {tweet_id}")
        except _Unreadable as exc:
            if exc.status is not None and not 200 <= exc.status < 300:
                raise ReplyFailed(exc.reason) from exc
            answer = {}  # X took the post but its answer was lost: look below
        except _DuplicateText as exc:
            # The same text again: most often our own reply whose answer was lost.
            found = await self.find_sent(target, text)
            if found is not None:
                return found
            raise ReplyFailed(exc.reason) from exc
        data = answer.get("data")
        if isinstance(data, dict) and _TWEET_ID.fullmatch(str(data.get("id", ""))):
            return SentReply(str(data["id"]), _tweet_url(str(data["id"])))
        found = await self.find_sent(target, text)
        if found is None:
            raise ReplyFailed("x answered the reply without the new post's id, and the account's "
                              "posts do not show it")
        return found


class _Unreadable(ReplyFailed):
    """An answer that could not be read; ``status`` is its HTTP status when known."""

    def __init__(self, reason: str, status: int | None) -> None:
        super().__init__(reason)
        self.status = status


class _DuplicateText(ReplyFailed):
    """X refused a text the account posted before."""


def _target_id(target: ReplyTarget) -> str:
    tweet_id = target.external_id.strip()
    if not _TWEET_ID.fullmatch(tweet_id):
        raise ReplyFailed(f"{target.external_id!r} is not an X post id")
    return tweet_id


def _answers(tweet: Any, tweet_id: str) -> bool:
    """Whether ``tweet`` (timeline JSON) is a reply to the post ``tweet_id``."""
    if not isinstance(tweet, dict) or not _TWEET_ID.fullmatch(str(tweet.get("id", ""))):
        return False
    refs = tweet.get("referenced_tweets")
    return isinstance(refs, list) and any(
        isinstance(r, dict) and r.get("type") == "replied_to" and str(r.get("id")) == tweet_id for r in refs)


def _full_text(tweet: dict[str, Any]) -> str:
    """A post's whole text: a long one (over 280) is cut in ``text`` and whole in ``note_tweet``."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return note["text"]
    return str(tweet.get("text", ""))


def _tweet_url(tweet_id: str) -> str:
    # The /i/web/ form works without knowing the account's handle.
    return f"https://x.com/i/web/status/{tweet_id}"


def _refused(exc: tweepy.HTTPException, doing: str) -> ReplyFailed:
    """401/403: this reply refused (duplicate, replies limited, post gone) or the credentials."""
    status = exc.response.status
    detail = api_detail(exc)
    lowered = detail.lower()
    if status == 403:
        for words, meaning in _REFUSALS:
            if words in lowered:
                kind = _DuplicateText if words == "duplicate content" else ReplyFailed
                return kind(f"x refused the reply: {meaning} (X said: {detail})")
    advice = ("check consumer_key, consumer_secret, access_token and access_token_secret" if status == 401
              else "the app needs Read and Write permission (then new access tokens) in the X developer portal")
    return ReplyAuthFailed(f"x refused the credentials ({status}) while {doing}: {advice}"
                           + (f" (X said: {detail})" if detail else ""))
