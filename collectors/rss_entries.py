"""One feedparser entry of an RSS or Atom feed as a ``RawPost``: its id, text, date and author.

An entry is stored whenever it has text.  Its id is the feed's guid/id, else its link, else
a hash of its title (and date), else a hash of its text; its date is its own, else the
feed's, else the time it was first seen.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from domain import Author, RawPost
from domain.errors import BadItem

from collectors.post_format import MAX_TEXT, ascii_number, clean_text, epoch_time
from collectors.web import html_to_text

#: The fields whose change makes a refused entry worth another look.
_FINGERPRINTED = ("id", "link", "title", "summary", "content", "published", "updated")


def entry_text(entry: Mapping[str, Any]) -> str:
    """The entry's title and body as plain text ("" when it has neither)."""
    title = _detail_text(entry, "title")
    summary = _detail_text(entry, "summary")
    if not summary and entry.get("content"):
        summary = html_to_text(entry["content"][0].get("value") or "")
    return clean_text("\n\n".join(part for part in (title, summary) if part))[:MAX_TEXT]


def entry_id(entry: Mapping[str, Any], feed_url: str, text: str) -> str | None:
    """The entry's guid/id, else its link, else a hash of its title, else of its text."""
    given = (entry.get("id") or "").strip()
    if given:
        # Bare ids such as "42" are only unique within their feed.
        return given if ":" in given else f"{feed_url}#{given}"
    link = (entry.get("link") or "").strip()
    if link:
        return link
    title = entry.get("title") or ""
    published = dict.get(entry, "published") or dict.get(entry, "updated") or ""
    if title:
        # Title and date, as ids made this way were stored before: they must not change.
        digest = hashlib.sha256(f"{feed_url}\n{title}\n{published}".encode()).hexdigest()[:32]
        return f"sha256:{digest}"
    if text:
        # Not the date: a publisher adding one later must not make the entry new.
        return "text-sha256:" + hashlib.sha256(f"{feed_url}\n{text}".encode()).hexdigest()[:32]
    return None


def fingerprint(entry: Mapping[str, Any]) -> str:
    """A hash of what the publisher may fix in an entry (its text, dates, ids)."""
    fields = [dict.get(entry, name) for name in _FINGERPRINTED]
    body = json.dumps(fields, default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def entry_post(entry: Mapping[str, Any], external_id: str, text: str, feed: Mapping[str, Any],
               feed_url: str, first_seen: datetime) -> RawPost:
    """A ``RawPost`` from one feedparser entry; ``BadItem`` when it has no text."""
    if not text:
        raise BadItem("entry has neither title nor text")
    created_at = _first_date(entry, feed, first_seen + FUTURE_SLACK) or first_seen
    detail = entry.get("author_detail") or {}
    author_name = _author_name(entry) or None
    handle = (author_name or _author_name(feed) or (feed.get("title") or "").strip()
              or urlsplit(feed_url).hostname or feed_url)
    return RawPost(
        source="rss",
        external_id=external_id,
        author=Author(handle=handle.lstrip("@"), name=author_name, platform_id=detail.get("href")),
        text=text,
        created_at=created_at,
        url=(entry.get("link") or "").strip() or None,
        thread_id=feed_url,
        language=_language(entry, feed),
        engagement=_engagement(entry),
    )


#: How far ahead of the moment an entry is first seen its date may be (time zones written
#: wrong, clocks off).  Further ahead is a placeholder ("2999-01-01" for a pinned post), and a
#: mention dated then would fall outside every dashboard period until that day.
FUTURE_SLACK = timedelta(days=1)


def _first_date(entry: Mapping[str, Any], feed: Mapping[str, Any],
                latest: datetime) -> datetime | None:
    """The entry's published date, else its updated date, else the feed's: the first of them
    that is a date.  feedparser hands MySQL's "0000-00-00 00:00:00" (written by many PHP
    blogs for a draft's date) over as the year -1, which no datetime holds; a date before
    1970, when no feed was written, or after ``latest``, is taken for no date either."""
    # dict.get: FeedParserDict.get("updated_parsed") falls back to published_parsed with a warning.
    for when in (dict.get(entry, "published_parsed"), dict.get(entry, "updated_parsed"),
                 dict.get(feed, "updated_parsed")):
        if when and 1970 <= when.tm_year <= 9999:
            at = epoch_time(calendar.timegm(when))  # feedparser's struct_time is UTC
            if at is not None and at <= latest:
                return at
    return None


_EMAIL_AND_NAME = re.compile(r"^\s*[^\s()]+@[^\s()]+\s*\((?P<name>[^()]+)\)\s*$")


def _author_name(item: Mapping[str, Any]) -> str:
    """The author's name of an entry or feed; RSS writes ``mail@host (Name)``."""
    author = (item.get("author") or "").strip()
    # feedparser's own split of "mail (Name)" garbles long top-level domains such as .example.
    match = _EMAIL_AND_NAME.match(author)
    if match:
        return match["name"].strip()
    return ((item.get("author_detail") or {}).get("name") or author).strip()


def _detail_text(entry: Mapping[str, Any], name: str) -> str:
    """A text construct as plain text: HTML stripped unless the feed said it is plain text."""
    value = entry.get(name) or ""
    kind = (entry.get(f"{name}_detail") or {}).get("type") or ("text/html" if name == "summary" else "")
    return html_to_text(value) if "html" in kind else value.strip()


def _language(entry: Mapping[str, Any], feed: Mapping[str, Any]) -> str | None:
    for detail in (entry.get("title_detail"), entry.get("summary_detail")):
        if detail and detail.get("language"):
            return _primary_language(detail["language"])
    return _primary_language(feed.get("language"))


def _primary_language(tag: str | None) -> str | None:
    """``en`` from ``en-US``; ``None`` for nothing usable."""
    primary = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    return primary[:16] if primary.isalpha() else None


def _engagement(entry: Mapping[str, Any]) -> dict[str, int]:
    comments = str(entry.get("slash_comments") or "").strip()
    return {"comments": int(comments)} if ascii_number(comments) else {}
