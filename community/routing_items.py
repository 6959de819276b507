"""Turning stored things into ``RoutableItem``s, and items and routings into messages."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.routing import RoutableItem, RoutedItem, SpikeFacts, Team
from community.spike_alerts import spike_item
from domain import Customer, CustomerLink, Mention
from domain.dashboard import SpikeAlert, spike_summary
from domain.signals import Signal, payload_signals, values_of

#: A spike compares the last 24 hours with the baseline (community.spike_alerts).
SPIKE_WINDOW = timedelta(hours=24)

#: Links a manager has not confirmed yet do not speak for a customer in routing.
_UNSURE = {"pending", "rejected"}


def speaking_customer(mention: Mention) -> CustomerLink | None:
    """The most confident customer link of a mention that is not awaiting review."""
    links = [k for k in mention.analysis.links if getattr(k, "status", "accepted") not in _UNSURE]
    return max(links, key=lambda k: k.confidence, default=None)


def mention_item(mention: Mention, customers: Mapping[str, Customer]) -> RoutableItem:
    """A stored mention as rules see it, with its best-linked customer's CRM facts."""
    if mention.id is None:
        raise ValueError("only stored mentions can be routed")
    analysis = mention.analysis
    link = speaking_customer(mention)
    customer = customers.get(link.customer_id) if link else None
    # Topics, intent and sentiment come from the NLP stage; read them leniently so that
    # routing on source, keywords and customer facts works before (and after) it lands.
    intent = getattr(analysis, "intent", None)
    sentiment = getattr(analysis, "sentiment", None)
    return RoutableItem(
        kind="mention", id=str(mention.id), text=mention.post.text, source=mention.post.source,
        topics=tuple(getattr(analysis, "topics", ()) or ()),
        intent=intent if intent not in (None, "", "other") else None,
        sentiment=float(sentiment) if sentiment is not None else None,
        customer_id=customer.id if customer else None,
        customer_name=customer.name if customer else None,
        company=(customer.company or (customer.name if customer.kind == "company" else None))
        if customer else None,
        segment=customer.segment if customer else None,
        revenue=customer.annual_revenue if customer else None,
        author=mention.post.author.handle, url=mention.post.url,
        signals=values_of(analysis))


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def spike_routable(alert: SpikeAlert, customer: Customer | None = None) -> RoutableItem:
    """A spike alert as rules see it: the dashboard's spike item (topic, or the customer's
    CRM facts) with the window and the count against the baseline, for queues and messages.

    Its id is ``<kind>:<subject>:<day>``: one alert per subject and day, routed once per rule.
    """
    item = spike_item(alert, customer)
    facts = SpikeFacts(
        subject_kind=alert.kind, subject=alert.subject, day=alert.window_start.date().isoformat(),
        window_start=_utc_text(alert.detected_at - SPIKE_WINDOW),
        window_end=_utc_text(alert.detected_at), count=alert.count,
        baseline=float(alert.baseline), threshold=float(alert.threshold),
        subject_name=(customer.name if customer else alert.subject_name), alert_id=alert.id)
    return dataclasses.replace(item, spike=facts)


def spike_label(item: RoutableItem) -> str:
    """What a spike is about, for people: "topic billing" or "customer Acme Anvils"."""
    facts = item.spike
    if facts is None:
        return item.title or item.id
    return f"{facts.subject_kind} {facts.subject_name or facts.subject}"


#: The fields of an item's JSON (its NLP signals are added under their own keys).
_ITEM_FIELDS = frozenset(RoutableItem.__dataclass_fields__) - {"signals"}


def carried_keys() -> tuple[Signal, ...]:
    """The NLP signals items' messages carry beside their fields: the registry's payload
    signals but the historic ones an item has a field for (intent; sentiment, whose field
    is the score)."""
    return tuple(s for s in payload_signals() if s.key not in _ITEM_FIELDS)


def carried_signals(item: RoutableItem) -> list[tuple[Signal, str]]:
    """``carried_keys`` the item holds a value of, with their values."""
    held = dict(item.signals)
    return [(s, held[s.name]) for s in carried_keys() if s.name in held]


def item_json(item: RoutableItem) -> dict[str, Any]:
    """An item as JSON-ready values: its fields, then each NLP signal it carries under the
    signal's key (``carried_signals``; a signal declared in ``nlp/signals/`` needs nothing here)."""
    data = dataclasses.asdict(item)
    del data["signals"]
    data["topics"] = list(item.topics)
    data.update((s.key, value) for s, value in carried_signals(item))
    return data


def _iso(routed: RoutedItem) -> str | None:
    return routed.routed_at.isoformat().replace("+00:00", "Z") if routed.routed_at else None


def webhook_payload(routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
    """The JSON a team's webhook receives for a routed item."""
    return {
        "type": "item.routed", "trigger": routed.event, "team": team.key, "rule": routed.rule_id,
        "priority": routed.priority, "routed_at": _iso(routed), "routed_by": routed.routed_by,
        "item": item_json(routed.item), "queue_url": queue_url,
    }


def _who(item: RoutableItem) -> str:
    if not item.customer_name:
        return f"@{item.author}" if item.author else "an unknown customer"
    facts = [f for f in (item.segment, f"revenue {item.revenue:,}" if item.revenue else None) if f]
    return item.customer_name + (f" ({', '.join(facts)})" if facts else "")


def _excerpt(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats &, < and > as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook message."""
    item = routed.item
    where = f" on {item.source}" if item.source else ""
    about = (f"spike in {spike_label(item)}" if item.kind == "spike"
             else f"{item.kind} from {_who(item)}{where}")
    headline = (f"*[{routed.priority}]* {_slack_escape(about)} routed to {_slack_escape(team.name)} "
                f"(rule `{_slack_escape(routed.rule_id)}`)")
    lines = [
        headline,
        "> " + _slack_escape(_excerpt(item.text)).replace("\n", "\n> "),
    ]
    if item.url:
        lines.append(f"<{html.escape(item.url, quote=True)}|original post> · <{queue_url}|team queue>")
    else:
        lines.append(f"<{queue_url}|team queue>")
    return {"text": "\n".join(lines)}


def mail_payload(routed: RoutedItem, team: Team, queue_url: str) -> dict[str, Any]:
    """Subject and plain-text body of the mail to a team."""
    item = routed.item
    spike = item.spike
    about = f"spike in {spike_label(item)}" if item.kind == "spike" else f"{item.kind} from {_who(item)}"
    subject = f"[crmsphere] [{routed.priority}] {about} for {team.name}"
    lines = [
        f"A {item.kind} was routed to {team.name} by rule {routed.rule_id} ({routed.event}).",
        "",
        f"Spike: {spike_label(item)}" if spike else None,
        f"Window: {spike.window_start} to {spike.window_end}" if spike else None,
        f"Mentions: {spike_summary(spike.count, spike.baseline, spike.threshold)}" if spike else None,
        f"Customer: {_who(item)}" if item.kind != "spike" or item.customer_id else None,
        f"Company: {item.company}" if item.company else None,
        f"Source: {item.source}" if item.source else None,
        f"Topics: {', '.join(item.topics)}" if item.topics else None,
        f"Intent: {item.intent}" if item.intent else None,
        f"Sentiment: {item.sentiment:+.2f}" if item.sentiment is not None else None,
        *(f"{s.label}: {value}" for s, value in carried_signals(item)),
        "",
        _excerpt(item.text, 4000),
        "",
        f"Original: {item.url}" if item.url else None,
        f"Queue: {queue_url}",
    ]
    body = "\n".join(line for line in lines if line is not None)
    # One line, no control characters: the subject goes into a header.
    return {"subject": " ".join(subject.split())[:200], "body": body}
