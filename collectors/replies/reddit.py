"""Replies on Reddit through PRAW, as the account of a script app (username and password).

Credentials: ``client_id`` and ``client_secret`` of a *script* app, and ``username`` and
``password`` of the account the replies are posted as (the account must be a developer of
the app; accounts with two-factor authentication cannot use the password grant).  Options
read from the source's table: ``base_url`` (``None`` = reddit.com) and ``user_agent``.

A target is a post (``t3_...``) or a comment (``t1_...``) by its fullname, as the collector
stores it.  ``send`` posts through ``Submission.reply``/``Comment.reply`` (POST
/api/comment); ``find_sent`` reads the account's newest comments (``/user/<name>/comments``)
for one whose parent is the target and whose text is ours: the account's own history
lists a reply at once and in full, where a big thread hides comments behind "load more".

PRAW is synchronous: every call runs in a thread, one at a time per writer (PRAW's session
is not shared between threads safely).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import praw
import prawcore
from praw.exceptions import PRAWException, RedditAPIException
from praw.models import Comment

from collectors.replies import (ReplyAuthFailed, ReplyFailed, ReplyRateLimited, ReplyTarget,
                                ReplyWriter, SentReply, register_writer)

REDDIT_WEB = "https://www.reddit.com"
#: How many of the account's newest comments ``find_sent`` reads (Reddit lists at most 1000).
SEARCH_DEPTH = 300
#: Seconds a call may wait in its thread for prawcore's rate limiter; beyond, the workflow waits.
MAX_THREAD_WAIT = 10.0
_FULLNAME = re.compile(r"(t1|t3)_([0-9a-z]{1,13})")
_USERNAME = re.compile(r"[A-Za-z0-9_-]{3,20}")
#: "Take a break for 9 minutes", "try again in 5 minutes", "... 30 seconds": the wait asked for.
_WAIT = re.compile(r"(\d+(?:\.\d+)?)\s*(millisecond|second|minute|hour)s?", re.IGNORECASE)
_UNIT_SECONDS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}
#: Reddit's error codes on POST /api/comment that say the target cannot be answered.
_REFUSALS = {
    "THREAD_LOCKED": "the thread is locked: moderators closed it to new comments",
    "DELETED_COMMENT": "the comment was deleted",
    "DELETED_LINK": "the post was deleted",
    "TOO_OLD": "the post is archived (too old to reply to)",
    "SUBREDDIT_NOTALLOWED": "the account may not post in this subreddit",
    "USER_BLOCKED": "the author blocked the account",
    "RESTRICTED_TO_PM": "the author does not accept replies",
    "TOO_LONG": "the reply is too long for Reddit (10,000 characters at most)",
    "NO_TEXT": "the reply is empty",
}


class _LastAnswer(prawcore.Requestor):
    """A prawcore requestor reporting each answer's headers and its JSON ``ratelimit``.

    Reddit sends the exact wait next to a RATELIMIT error (``{"json": {"ratelimit": 428.6,
    "errors": [...]}}``); PRAW keeps only the message, which is in the account's language.
    """

    def __init__(self, *args: Any, on_answer: Callable[[Mapping[str, str], float | None], None],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_answer = on_answer

    def request(self, *args: Any, **kwargs: Any) -> Any:
        """Issue the request and report its headers and ``ratelimit`` (``None`` if none)."""
        response = super().request(*args, **kwargs)
        wait = None
        if "json" in response.headers.get("content-type", ""):
            try:
                wait = json.loads(response.text).get("json", {}).get("ratelimit")
            except (ValueError, AttributeError):
                wait = None
        valid = isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait >= 0
        self._on_answer(response.headers, float(wait) if valid else None)
        return response


def _fullname(target: ReplyTarget) -> tuple[str, str]:
    """(kind, id) of the target's fullname; ``ReplyFailed`` when it is not a post or comment."""
    match = _FULLNAME.fullmatch(target.external_id.strip())
    if match is None:
        raise ReplyFailed(f"{target.external_id!r} is not a Reddit post (t3_...) or comment (t1_...)")
    return match.group(1), match.group(2)


def same_text(posted: str, ours: str) -> bool:
    """Whether Reddit's ``body`` is the text we sent, allowing for what Reddit changes.

    Reddit stores ``\\n`` for ``\\r\\n``, trims the ends and, for clients not asking for
    ``raw_json``, escapes ``&<>``; a form of Unicode may change on the way too.
    """
    def normal(text: str) -> str:
        text = unicodedata.normalize("NFC", html.unescape(text))
        return " ".join(text.split())

    return normal(posted) == normal(ours)


def _wait_from(message: str | None) -> float | None:
    """The seconds a RATELIMIT message asks us to wait, when it says so in English."""
    match = _WAIT.search(message or "")
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def _body_reason(response: Any) -> str:
    try:
        body = json.loads(response.text)
    except (ValueError, TypeError, AttributeError):
        return ""
    return str(body.get("reason") or body.get("message") or "") if isinstance(body, dict) else ""


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


@register_writer("reddit")
class RedditReplyWriter(ReplyWriter):
    """Posts comments under Reddit posts and comments as a script app's account."""

    credential_names = ("client_id", "client_secret", "username", "password")

    def __init__(self, credentials: Mapping[str, str], options: Mapping[str, Any],
                 http: Any = None) -> None:
        super().__init__(credentials, options, http)
        self.base_url: str | None = self.options.get("base_url")
        # "u/nimbus_team" and "/u/nimbus_team" are how people write a Reddit account.
        name = str(self.credentials.get("username") or "").strip()
        self.username = name.removeprefix("/").removeprefix("u/")
        # Reddit asks for "<platform>:<app>:<version> (by /u/<account>)".
        self.user_agent = str(self.options.get("user_agent") or f"crmsphere:replies:0.1 (by /u/{self.username})")
        self._reddit: praw.Reddit | None = None
        # PRAW's requests session is not safe across threads: one call at a time.
        self._one_at_a_time = threading.Lock()
        self._ratelimit: float | None = None  # of the last answer; read under the lock
        self._window_spent_until: float | None = None  # time.monotonic() of the window's reset

    def _client(self) -> praw.Reddit:
        """The PRAW client, built on first use (it reads praw.ini files: call in a thread)."""
        if self._reddit is None:
            missing = self.missing_credentials()
            if missing:
                raise ReplyAuthFailed(f"reddit replies need {', '.join(missing)} of a script app "
                                      f"and the account it posts as")
            if not _USERNAME.fullmatch(self.username):
                raise ReplyAuthFailed(f"reddit username {self.username!r} is not a Reddit account "
                                      f"name (3-20 letters, digits, '_' or '-')")
            site: dict[str, str] = {}
            if self.base_url:
                base = self.base_url.rstrip("/")
                site = {"oauth_url": base, "reddit_url": base, "short_url": base}
            self._reddit = praw.Reddit(
                client_id=self.credentials["client_id"], client_secret=self.credentials["client_secret"],
                username=self.username, password=self.credentials["password"],
                user_agent=self.user_agent, check_for_updates=False,
                # Never sleep in a worker thread for Reddit's posting limit: the workflow waits.
                ratelimit_seconds=0, requestor_class=_LastAnswer,
                requestor_kwargs={"on_answer": self._note_answer}, **site)
        return self._reddit

    def _note_answer(self, headers: Mapping[str, str], wait: float | None) -> None:
        """Keep the answer's RATELIMIT wait and when a spent request window resets."""
        self._ratelimit = wait
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self._window_spent_until = time.monotonic() + reset if remaining <= 0 else None

    def _check_window(self) -> None:
        """Refuse to start a call prawcore would hold for long waiting out a spent window."""
        if self._window_spent_until is None:
            return
        left = self._window_spent_until - time.monotonic()
        if left > MAX_THREAD_WAIT:
            raise ReplyRateLimited(f"reddit's request window is spent; it resets in {left:.0f} s",
                                   retry_after=left)

    async def _run(self, call: Any, *args: Any, doing: str) -> Any:
        """Run ``call(*args)`` in a thread; every PRAW failure becomes a ``ReplyFailed``."""
        def locked() -> Any:
            with self._one_at_a_time:
                self._check_window()
                try:
                    return call(*args)
                except RedditAPIException as exc:
                    # Mapped under the lock: the wait belongs to this call's answer.
                    raise self._refusal(exc, doing) from exc

        try:
            return await asyncio.to_thread(locked)
        except prawcore.BadJSON as exc:
            raise _Unreadable(f"reddit answered something other than JSON while {doing}") from exc
        except prawcore.PrawcoreException as exc:
            raise _translate(exc, doing) from exc
        except PRAWException as exc:
            raise ReplyFailed(f"reddit: {doing} failed: {exc}") from exc
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # PRAW's parsing breaks on answers not shaped as it expects (an errors entry
            # that is not a triple, a comment without an id).
            raise _Unreadable(f"reddit answered {doing} in a shape PRAW could not read "
                              f"({type(exc).__name__}: {exc})") from exc

    def _refusal(self, exc: RedditAPIException, doing: str) -> ReplyFailed:
        """The failure for Reddit's own error codes (HTTP 200 with ``json.errors``)."""
        for item in exc.items:
            said = f" (Reddit said: {item.message})" if item.message else ""
            if item.error_type == "RATELIMIT":
                wait = self._ratelimit if self._ratelimit is not None else _wait_from(item.message)
                return ReplyRateLimited(f"reddit limits how often the account may comment{said}",
                                        retry_after=wait)
            if item.error_type == "USER_REQUIRED":
                return ReplyAuthFailed(f"reddit did not accept the account's login{said}: check "
                                       f"username and password")
            if item.error_type in _REFUSALS:
                return ReplyFailed(f"reddit refused the reply: {_REFUSALS[item.error_type]}{said}")
        first = exc.items[0] if exc.items else None
        detail = first.error_message if first else str(exc)
        return ReplyFailed(f"reddit refused {doing}: {detail}")

    def _post_reply(self, kind: str, item_id: str, text: str) -> Any:
        reddit = self._client()
        thing = reddit.submission(item_id) if kind == "t3" else reddit.comment(item_id)
        # prawcore repeats a request after a 5xx or a broken connection, but Reddit often
        # posts the comment and then fails to answer: a repeat would post it twice.  The
        # workflow asks ``find_sent`` before it sends again.  (A 401 is still repeated with
        # a new token: Reddit posted nothing then.)
        core = reddit._core
        core.RETRY_STATUSES, core.RETRY_EXCEPTIONS = frozenset(), ()
        try:
            return thing.reply(text)
        finally:
            del core.RETRY_STATUSES, core.RETRY_EXCEPTIONS  # back to prawcore's for reading

    def _own_comments(self, limit: int) -> list[dict[str, Any]]:
        """The data of the account's newest comments, newest first (raw listing JSON)."""
        reddit = self._client()
        path = f"user/{self.username}/comments"
        found: list[dict[str, Any]] = []
        after: str | None = None
        while len(found) < limit:
            params = {"sort": "new", "limit": str(min(100, limit - len(found)))}
            if after:
                params["after"] = after
            listing = reddit.request(method="GET", path=path, params=params)
            data = listing.get("data") if isinstance(listing, dict) else None
            if not isinstance(data, dict) or not isinstance(data.get("children"), list):
                raise ReplyFailed(f"reddit answered /{path} with something other than a listing")
            found += [c["data"] for c in data["children"]
                      if isinstance(c, dict) and c.get("kind") == "t1" and isinstance(c.get("data"), dict)]
            after = data.get("after") if isinstance(data.get("after"), str) else None
            if not after or not data["children"]:
                break
        return found

    async def find_sent(self, target: ReplyTarget, text: str) -> SentReply | None:
        """Our comment under ``target`` with ``text``, from the account's newest comments."""
        _fullname(target)
        try:
            comments = await self._run(self._own_comments, SEARCH_DEPTH,
                                       doing="reading the account's comments")
        except _Unreadable as exc:  # only plain failures leave the writer
            raise ReplyFailed(exc.reason) from exc
        parent = target.external_id.strip()
        for data in comments:
            body = data.get("body")
            if data.get("parent_id") == parent and isinstance(body, str) and same_text(body, text):
                name = data.get("name")
                if isinstance(name, str) and _FULLNAME.fullmatch(name) and name.startswith("t1_"):
                    return SentReply(name, _comment_url(data))
        return None

    async def send(self, target: ReplyTarget, text: str) -> SentReply:
        """Post ``text`` under ``target``; the new comment's fullname and address."""
        kind, item_id = _fullname(target)
        if not text.strip():
            raise ReplyFailed("the reply is empty")
        if not text.isprintable() and any(0xD800 <= ord(c) <= 0xDFFF or c == "\x00" for c in text):
            # Half an emoji or a NUL cannot be sent as UTF-8; the library would fail mid-request.
            raise ReplyFailed("the reply holds characters that cannot be sent (a NUL or half of an emoji)")
        try:
            comment = await self._run(self._post_reply, kind, item_id, text,
                                      doing=f"replying to {target.external_id}")
            why = "reddit accepted the reply but did not return the new comment"
        except _Unreadable as exc:
            comment, why = None, exc.reason
        if isinstance(comment, Comment):
            data = vars(comment)  # the answer's fields; attribute access would fetch missing ones
            name = data.get("name")
            if isinstance(name, str) and _FULLNAME.fullmatch(name) and name.startswith("t1_"):
                return SentReply(name, _comment_url(data))
        # Reddit took the request but its answer does not name the comment (in quarantined
        # subreddits the account has not opted into it returns none): the account's own
        # history shows whether the comment is there.
        found = await self.find_sent(target, text)
        if found is None:
            raise ReplyFailed(f"{why}, and the account's comments do not show it")
        return found


class _Unreadable(ReplyFailed):
    """Reddit answered in a shape that could not be read (the action may have happened)."""


def _comment_url(data: Mapping[str, Any]) -> str | None:
    """Where a person sees the comment: its permalink, else one built from its ids."""
    permalink = data.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return f"{REDDIT_WEB}{permalink}"
    link_id, item_id = data.get("link_id"), data.get("id")
    if isinstance(link_id, str) and link_id.startswith("t3_") and isinstance(item_id, str):
        return f"{REDDIT_WEB}/comments/{link_id[3:]}/_/{item_id}/"
    return None


def _translate(exc: prawcore.PrawcoreException, doing: str) -> ReplyFailed:
    """The reply failure for a prawcore error (HTTP status, token refused, network)."""
    if isinstance(exc, prawcore.OAuthException):
        return ReplyAuthFailed(f"reddit refused the login ({exc.error}) while {doing}: check the "
                               f"account's username and password (accounts with two-factor "
                               f"authentication cannot post through a script app)")
    if isinstance(exc, prawcore.TooManyRequests):
        headers = exc.response.headers
        wait = _seconds(headers.get("retry-after")) or _seconds(headers.get("x-ratelimit-reset"))
        return ReplyRateLimited(f"reddit: too many requests while {doing}", retry_after=wait)
    if isinstance(exc, prawcore.InvalidToken):
        return ReplyAuthFailed(f"reddit refused the access token (401) while {doing}: check "
                               f"client_id and client_secret")
    if isinstance(exc, prawcore.Forbidden):
        reason = _body_reason(exc.response)
        return ReplyAuthFailed(f"reddit refused {doing} (403{': ' + reason if reason else ''}): the "
                               f"account may be banned there or the app may lack posting rights")
    if isinstance(exc, prawcore.NotFound):
        return ReplyFailed(f"reddit: {doing} found nothing (404): the post or comment is gone")
    if isinstance(exc, prawcore.ServerError):
        return ReplyFailed(f"reddit server error ({exc.response.status_code}) while {doing}; "
                           f"try again later")
    if isinstance(exc, prawcore.ResponseException):
        status = exc.response.status_code
        if status == 401:  # the token endpoint refusing client_id/client_secret
            return ReplyAuthFailed(f"reddit refused the app (401) while {doing}: check client_id "
                                   f"and client_secret of the script app")
        reason = _body_reason(exc.response)
        return ReplyFailed(f"reddit answered HTTP {status} while {doing}"
                           + (f" ({reason})" if reason else ""))
    if isinstance(exc, prawcore.BadJSON):
        return ReplyFailed(f"reddit answered something other than JSON while {doing}")
    if isinstance(exc, prawcore.RequestException):
        return ReplyFailed(f"reddit unreachable while {doing}: {exc.original_exception!r}")
    return ReplyFailed(f"reddit: {doing} failed: {type(exc).__name__}: {exc}")
