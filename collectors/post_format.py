"""The stable post format shared by the JSONL import and push ingest.

One object per post::

    {"source": "reddit", "external_id": "t3_abc", "author": {"handle": "jo", "name": "Jo"},
     "text": "...", "created_at": "2026-11-01T12:00:00Z", "url": "https://...", "parent_id": "t3_x"}

``url`` and ``parent_id`` are optional, and so are the additive keys ``thread_id``,
``language``, ``engagement`` (an object of counts) and ``author.platform_id``.  Anything else is reported as a ``BadItem``
naming the field, and only that post is dropped.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from domain import Author, RawPost
from domain.errors import BadItem
from domain.text_edge import INT_MAX, INT_MIN

MAX_TEXT = 100_000
MAX_FIELD = 2_000
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\x00"))


def _text_field(obj: dict[str, Any], name: str, *, required: bool, limit: int = MAX_FIELD) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise BadItem(f"missing field '{name}'")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadItem(f"field '{name}' must be a string, got {type(value).__name__}")
    value = str(value).strip()
    if required and not value:
        raise BadItem(f"field '{name}' is empty")
    if len(value) > limit:
        raise BadItem(f"field '{name}' is longer than {limit} characters")
    return value or None


class TimeOutOfRange(BadItem):
    """An ISO 8601 time whose UTC instant is before year 1 or after year 9999."""


def parse_time(value: Any, name: str = "created_at") -> datetime:
    """An aware UTC datetime from ISO 8601 text (a time without zone is taken as UTC)."""
    if not isinstance(value, str):
        raise BadItem(f"field '{name}' must be an ISO 8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadItem(f"field '{name}' is not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:
        # 9999-12-31T23:59:59-05:00 is a valid text whose UTC instant no datetime holds.
        raise TimeOutOfRange(f"field '{name}' is out of the range of dates (years 1 to 9999 in UTC): "
                             f"{value[:40]!r}") from None


def ascii_number(text: str) -> bool:
    """Whether ``text`` is ASCII digits only: what ``int()`` takes and every API sends.

    ``str.isdigit`` is also true of "²" (a stray 0xB2 byte in a Latin-1 header) and other
    digits ``int()`` refuses with a ``ValueError`` that would stop the whole run.
    """
    return text.isascii() and text.isdigit()


def epoch_time(seconds: float) -> datetime | None:
    """The UTC time of epoch ``seconds``; ``None`` when no date holds it (NaN, infinity, a
    time in milliseconds read as seconds, which is some 50,000 years ahead)."""
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def clean_text(text: str) -> str:
    """Text as stored: NFC, without NULs and zero-width characters."""
    return unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)


#: How far ahead of now a sent post's ``created_at`` may be (clocks and zones a little off).
#: Further ahead, its mention would fall outside every dashboard period until that day.
FUTURE_SLACK = timedelta(days=1)


def parse_post(obj: Any, now: datetime | None = None) -> RawPost:
    """A ``RawPost`` from one decoded JSON object; ``BadItem`` names what is wrong.

    With ``now``, a ``created_at`` more than ``FUTURE_SLACK`` after it is refused.
    """
    if not isinstance(obj, dict):
        raise BadItem(f"a post must be a JSON object, got {type(obj).__name__}")
    author = obj.get("author")
    if not isinstance(author, dict):
        raise BadItem("field 'author' must be an object with a 'handle'")
    text = obj.get("text")
    if not isinstance(text, str):
        raise BadItem("missing field 'text'" if text is None else "field 'text' must be a string")
    if len(text) > MAX_TEXT:
        raise BadItem(f"field 'text' is longer than {MAX_TEXT} characters")
    source = _text_field(obj, "source", required=True, limit=64)
    assert source is not None
    created_at = parse_time(obj.get("created_at"))
    if now is not None and created_at > now + FUTURE_SLACK:
        raise BadItem(f"field 'created_at' is more than a day after now: {created_at.isoformat()}")
    return RawPost(
        source=source.lower(),
        external_id=_text_field(obj, "external_id", required=True) or "",
        author=Author(
            handle=_text_field(author, "handle", required=True, limit=320) or "",
            name=_text_field(author, "name", required=False, limit=320),
            platform_id=_text_field(author, "platform_id", required=False, limit=200),
        ),
        text=clean_text(text),
        created_at=created_at,
        url=_text_field(obj, "url", required=False),
        parent_id=_text_field(obj, "parent_id", required=False),
        thread_id=_text_field(obj, "thread_id", required=False),
        language=_text_field(obj, "language", required=False, limit=16),
        engagement=_engagement(obj.get("engagement")),
    )


def _engagement(value: Any) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 20:
        raise BadItem("field 'engagement' must be an object of at most 20 counts")
    counts: dict[str, int] = {}
    for key, count in value.items():
        if isinstance(count, bool) or not isinstance(count, int) or not isinstance(key, str) or len(key) > 32:
            raise BadItem(f"field 'engagement' must map names to integers (bad {str(key)[:32]!r})")
        if not INT_MIN <= count <= INT_MAX:  # no store holds a count beyond 64 bits
            raise BadItem(f"field 'engagement' count {str(key)[:32]!r} is out of range")
        counts[key] = count
    return counts
