"""Domain objects as JSON-ready dicts (the API's wire format)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain import Customer, CustomerLink, Mention, TopicEvidence, TopicLabel
from nlp.signals import signals


def customer_json(c: Customer) -> dict[str, Any]:
    """A customer with identities grouped by platform."""
    handles: dict[str, list[str]] = {}
    for ident in c.identities:
        handles.setdefault(ident.platform, []).append(ident.handle)
    return {
        "id": c.id, "name": c.name, "kind": c.kind, "company": c.company,
        "segment": c.segment, "annual_revenue": c.annual_revenue,
        "emails": list(c.emails), "domains": list(c.domains), "aliases": list(c.aliases),
        "handles": handles,
    }


def link_json(link: CustomerLink, customers: dict[str, Customer]) -> dict[str, Any]:
    """A customer link with its evidence."""
    customer = customers.get(link.customer_id)
    return {
        "customer_id": link.customer_id,
        "customer_name": customer.name if customer else None,
        "confidence": round(link.confidence, 3),
        "id": link.id,
        "status": link.status,
        "rule": link.rule,
        "evidence": link.evidence,
        "span": [link.start, link.end] if link.start is not None else None,
    }


def mention_json(m: Mention, customers: dict[str, Customer]) -> dict[str, Any]:
    """A mention with its links."""
    p = m.post
    return {
        "id": m.id, "source": p.source, "external_id": p.external_id,
        "author": {"handle": p.author.handle, "name": p.author.name, "platform_id": p.author.platform_id},
        "text": p.text, "created_at": p.created_at.isoformat().replace("+00:00", "Z"),
        "url": p.url, "parent_id": p.parent_id, "thread_id": p.thread_id,
        "language": p.language, "engagement": dict(p.engagement),
        "ingested_at": m.ingested_at.isoformat().replace("+00:00", "Z") if m.ingested_at else None,
        "links": [link_json(k, customers) for k in m.analysis.links],
        "topics": list(m.analysis.topics),
        **{s.key: s.json_of(m.analysis) for s in signals()},
        "flags": list(m.analysis.flags),
        "topic_evidence": topic_evidence_json(m.analysis.topic_evidence),
    }


def topic_evidence_json(evidence: Iterable[TopicEvidence]) -> list[dict[str, Any]]:
    """How each topic was found: ``{topic, rule, phrase, span}`` (span ``[start, end]`` or null)."""
    return [{"topic": e.topic, "rule": e.rule, "phrase": e.phrase,
             "span": [e.start, e.end] if e.start is not None else None} for e in evidence]


def linked_customer_ids(mentions: list[Mention] | tuple[Mention, ...]) -> set[str]:
    """Every customer id linked from ``mentions``."""
    return {k.customer_id for m in mentions for k in m.analysis.links}


def topic_label_json(label: TopicLabel) -> dict[str, Any]:
    """A manager's topic set for a mention: who set which topics when."""
    return {"topics": list(label.topics), "by": label.labelled_by,
            "at": label.labelled_at.isoformat().replace("+00:00", "Z")}
