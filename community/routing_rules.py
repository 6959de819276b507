"""Rule evaluation: which configured rules an event about an item triggers.

Pure functions over frozen values: no storage, no network, easy to test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from domain.routing import RoutableItem
from config.routing import RuleSettings


@lru_cache(maxsize=1024)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # Whole words, case-insensitive: "api" must not fire on "capital".
    return re.compile(r"(?<!\w)" + re.escape(keyword.strip()) + r"(?!\w)", re.IGNORECASE)


def _any_of(wanted: Sequence[str], have: Sequence[str] | str | None) -> bool:
    """True when nothing is wanted, or ``have`` shares a value with ``wanted`` (case-insensitive)."""
    if not wanted:
        return True
    if have is None:
        return False
    values = {have.lower()} if isinstance(have, str) else {h.lower() for h in have}
    return any(w.lower() in values for w in wanted)


def rule_matches(rule: RuleSettings, event: str, item: RoutableItem) -> bool:
    """True when every condition of ``rule`` holds for ``item`` on ``event``.

    A condition on a fact the item lacks (no sentiment yet, unknown revenue, an NLP signal
    declared after the mention was analysed) does not hold: a rule about angry customers
    never fires on an unanalysed post.  Spikes match only rules that ask for them (kind
    "spike" or event "spike.detected"), so the catch-all and keyword rules written for
    mentions and ideas keep to those.  ``signals`` tests any NLP signal by name, so a
    signal declared in ``nlp/signals/`` is a condition with nothing changed here.
    """
    if rule.events and event not in rule.events:
        return False
    if item.kind == "spike" and "spike" not in rule.kinds and "spike.detected" not in rule.events:
        return False
    if rule.kinds and item.kind not in rule.kinds:
        return False
    if not (_any_of(rule.topics, item.topics) and _any_of(rule.intents, item.intent)
            and _any_of(rule.segments, item.segment) and _any_of(rule.sources, item.source)):
        return False
    if rule.signals:
        held = dict(item.signals)
        if not all(_any_of(wanted, held.get(name)) for name, wanted in rule.signals.items()):
            return False
    if rule.sentiment_at_or_below is not None and (
            item.sentiment is None or item.sentiment > rule.sentiment_at_or_below):
        return False
    if rule.sentiment_above is not None and (
            item.sentiment is None or item.sentiment <= rule.sentiment_above):
        return False
    if rule.votes_at_least is not None and item.votes < rule.votes_at_least:
        return False
    if rule.impact_at_least is not None and item.impact < rule.impact_at_least:
        return False
    if rule.revenue_at_least is not None and (
            item.revenue is None or item.revenue < rule.revenue_at_least):
        return False
    if rule.keywords:
        text = f"{item.title or ''}\n{item.text}"
        if not any(_keyword_pattern(k).search(text) for k in rule.keywords):
            return False
    return True


def select_rules(
    rules: Sequence[RuleSettings], rule_sets: Mapping[str, str], event: str, item: RoutableItem
) -> list[RuleSettings]:
    """The rules to apply, in config order: per rule set the first match or every match."""
    chosen: list[RuleSettings] = []
    done_sets: set[str] = set()
    for rule in rules:
        if rule.set in done_sets or not rule_matches(rule, event, item):
            continue
        chosen.append(rule)
        if rule_sets.get(rule.set, "first_match") == "first_match":
            done_sets.add(rule.set)
    return chosen
