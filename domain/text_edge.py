"""What text crmsphere accepts, decided once for every way text comes in.

Text arrives as API bodies and query strings, pushed and imported posts, collected posts,
CRM records and customer CSV files.  The same two rules apply to all of them:

- A lone UTF-16 surrogate (``"\\ud83d"`` in JSON: an emoji cut in half, common in real social
  data) cannot be stored or written back out as UTF-8, so it becomes U+FFFD (the replacement
  character), the way a browser shows an unreadable character.  A surrogate pair that arrived
  as two separate code points is joined into the character it encodes.
- NUL (U+0000) ends strings in C code and in many tools downstream.  In what a person typed
  into our API (a name, a title, a comment) it is refused with a 400 naming the field; in data
  written by a third party (a platform's post, a CRM record, a CSV row) it becomes U+FFFD, so
  the post or record is kept rather than lost (the text of a post in the import format has it
  dropped earlier, with zero-width characters: ``collectors.post_format.clean_text``).

JSON bodies are also bounded: nesting at most ``MAX_DEPTH`` levels and integers within the
64-bit range every store can hold, each refused with a message naming where it was found.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Literal

from domain import Author, RawPost
from domain.errors import BadInput, clipped

#: Deepest nesting of arrays and objects a JSON body may have (real bodies use 4 or 5).
MAX_DEPTH = 64
#: The integer range of SQLite and MongoDB (signed 64-bit).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
REPLACEMENT = "\ufffd"

_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")
_SURROGATE = re.compile("[\ud800-\udfff]")

#: ``refuse``: a NUL is a 400 naming the field (typed by a person); ``replace``: it becomes
#: U+FFFD (written by a third party).
NulRule = Literal["refuse", "replace"]


def without_lone_surrogates(text: str) -> str:
    """``text`` with lone surrogates as U+FFFD (a pair split in two code points is joined)."""
    if not _SURROGATE.search(text):
        return text
    # Through UTF-16: a pair split into two code points joins again, a lone half is replaced.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def needs_cleaning(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point or a NUL."""
    return _SURROGATE_OR_NUL.search(text) is not None


def third_party_text(text: str) -> str:
    """Text written by someone else (a post, a CRM record, a CSV cell) as stored: lone
    surrogates and NULs become U+FFFD."""
    if not _SURROGATE_OR_NUL.search(text):
        return text
    return without_lone_surrogates(text).replace("\x00", REPLACEMENT)


def typed_text(text: str, field: str) -> str:
    """Text a person sent to the API, as stored: lone surrogates become U+FFFD; a NUL is
    ``BadInput`` naming ``field``."""
    if not _SURROGATE_OR_NUL.search(text):
        return text
    if "\x00" in text:
        raise BadInput(f"field '{clipped(field)}' contains a NUL character", {"field": clipped(field)})
    return without_lone_surrogates(text)


def _optional(text: str | None) -> str | None:
    return None if text is None else third_party_text(text)


def clean_post(post: RawPost) -> RawPost:
    """``post`` with every text field as ``third_party_text`` keeps it (the same object when
    nothing needed repair, which is nearly always)."""
    texts = (post.source, post.external_id, post.text, post.url, post.parent_id, post.thread_id,
             post.language, post.author.handle, post.author.name, post.author.platform_id,
             *post.engagement)
    if not any(t is not None and _SURROGATE_OR_NUL.search(t) for t in texts):
        return post
    author = Author(third_party_text(post.author.handle), _optional(post.author.name),
                    _optional(post.author.platform_id))
    return dataclasses.replace(
        post, source=third_party_text(post.source),
        external_id=third_party_text(post.external_id), author=author,
        text=third_party_text(post.text), url=_optional(post.url),
        parent_id=_optional(post.parent_id), thread_id=_optional(post.thread_id),
        language=_optional(post.language),
        engagement={third_party_text(k): v for k, v in post.engagement.items()})


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def clean_json(value: Any, nul: NulRule = "refuse", *, bound_ints: bool = True) -> Any:
    """A decoded JSON value with its text made acceptable (see the module docstring): nesting
    deeper than ``MAX_DEPTH`` and, with ``bound_ints``, integers beyond 64 bits are
    ``BadInput`` naming the field (a dotted path such as ``rules[2].when``)."""
    # Iterative, so a deep value cannot exhaust Python's stack before it is refused.
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, str, int]] = [(root, 0, "", 0)]
    while stack:
        holder, key, path, depth = stack.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = (typed_text(item, path or "body") if nul == "refuse"
                           else third_party_text(item))
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if bound_ints and not INT_MIN <= item <= INT_MAX:
                where = clipped(path or "body")
                raise BadInput(f"field '{where}' is an integer beyond the 64-bit range",
                               {"field": where})
        elif depth >= MAX_DEPTH:
            raise BadInput(f"the JSON is nested deeper than {MAX_DEPTH} levels",
                           {"max_depth": MAX_DEPTH})
        elif isinstance(item, list):
            stack.extend((item, i, _path(path, i), depth + 1) for i in range(len(item)))
        elif isinstance(item, dict):
            holder[key] = cleaned = _clean_keys(item, path, nul)
            stack.extend((cleaned, k, _path(path, k), depth + 1) for k in cleaned)
    return root[0]


def _clean_keys(obj: dict[str, Any], path: str, nul: NulRule) -> dict[str, Any]:
    if not any(_SURROGATE_OR_NUL.search(k) for k in obj):
        return obj
    if nul == "refuse":
        return {typed_text(k, _path(path, k.replace("\x00", "\\0"))): v for k, v in obj.items()}
    return {third_party_text(k): v for k, v in obj.items()}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def decode_json(raw: bytes | str, nul: NulRule = "refuse", *, bound_ints: bool = True) -> Any:
    """A JSON text decoded and cleaned by ``clean_json``; ``BadInput`` saying what is wrong
    when it is not UTF-8, not JSON (``NaN`` and ``Infinity`` are not), or too deep."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(f"the body is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadInput(f"the body is not JSON: {exc.msg} at line {exc.lineno} "
                       f"column {exc.colno}") from None
    except ValueError as exc:
        raise BadInput(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise BadInput(f"the JSON is nested deeper than {MAX_DEPTH} levels",
                       {"max_depth": MAX_DEPTH}) from None
    return clean_json(value, nul, bound_ints=bound_ints)

