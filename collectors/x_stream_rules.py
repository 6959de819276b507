"""The filtered stream's rules: which ones a source owns, and keeping X's copy in step with config.

Rules belong to the X app, not to a connection, and other tools may share the app: a
source owns only the rules whose tag is its name or starts with ``name:``.  A rule given
as a plain string is tagged ``name``; a table's tag becomes ``name:tag``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tweepy import StreamRule

from domain import Rejection
from domain.errors import NotConfigured

log = logging.getLogger(__name__)

#: Sends one rules request and returns X's JSON answer (errors already mapped to the domain's).
RulesCall = Callable[..., Awaitable[dict[str, Any]]]


def owns(name: str, tag: Any) -> bool:
    """Whether a rule's tag marks it as the source ``name``'s."""
    return isinstance(tag, str) and (tag == name or tag.startswith(name + ":"))


def configured_rules(name: str, value: Any) -> dict[tuple[str, str], None]:
    """The configured rules as ordered ``(value, tag)`` keys, tags prefixed with ``name``."""
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise NotConfigured("x_stream needs 'stream_rules': a list of rule values or {value, tag} tables")
    rules: dict[tuple[str, str], None] = {}
    for rule in value:
        text, tag = (rule, None) if isinstance(rule, str) else (
            (rule.get("value"), rule.get("tag")) if isinstance(rule, dict) else (None, None))
        if not isinstance(text, str) or not text.strip() or not isinstance(tag, (str, type(None))):
            raise NotConfigured(f"x_stream rule {rule!r} needs a non-empty string 'value' and a string 'tag'")
        tag = name if not tag else (tag if owns(name, tag) else f"{name}:{tag}")
        rules[(text.strip(), tag)] = None
    return rules


async def sync_rules(key: str, name: str, rules: dict[tuple[str, str], None], call: RulesCall,
                     get_rules: Callable[..., Awaitable[Any]],
                     add_rules: Callable[..., Awaitable[Any]],
                     delete_rules: Callable[..., Awaitable[Any]]) -> list[Rejection]:
    """Make the source's rules on X match ``rules``; other tools' rules are left alone."""
    rejected: list[Rejection] = []
    current = await call(get_rules)
    data = current.get("data") if isinstance(current.get("data"), list) else []  # absent: no rules
    ours = [r for r in data if isinstance(r, dict) and r.get("id") and owns(name, r.get("tag"))]
    present = {(r.get("value"), r.get("tag")) for r in ours}
    stale = [str(r["id"]) for r in ours if (r.get("value"), r.get("tag")) not in rules]
    missing = [StreamRule(value, tag=tag) for value, tag in rules if (value, tag) not in present]
    # Deleted first: X refuses a value already present, even under another tag.
    if stale:
        rejected += rule_errors(key, await call(delete_rules, stale), "delete")
    if missing:
        rejected += rule_errors(key, await call(add_rules, missing), "add")
    return rejected


def rule_errors(key: str, answer: dict[str, Any], action: str) -> list[Rejection]:
    """Rules X would not add or delete: duplicates are logged, the rest become rejections."""
    rejected = []
    for error in (e for e in answer.get("errors") or [] if isinstance(e, dict)):
        if error.get("title") == "DuplicateRule":  # its matches carry the other rule's tag
            log.warning("x_stream %s: rule %r already exists as rule %s under another tag",
                        key, error.get("value"), error.get("id"))
            continue
        details = "; ".join(str(d) for d in error.get("details") or []) or error.get("detail") or ""
        rejected.append(Rejection(f"x_stream:rules:{action}:{error.get('value') or error.get('id') or ''}",
                                  f"{error.get('title', 'error')}: {details}".rstrip(": ")))
    return rejected
