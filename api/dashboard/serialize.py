"""Mentions, triage and analytics as the dashboard's JSON (NLP fields when the analysis has them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from api.serialize import link_json, mention_json
from community.replies import ReplyDesk
from domain import Customer, Mention
from domain.triage import Triage, TriageNote
from nlp.signals import facets as signal_facets
from nlp.signals import signals


def analysis_json(m: Mention) -> dict[str, Any]:
    """Topics, the sentiment score and every NLP signal (``nlp.signals``), ``None``/empty where
    the NLP stage gave none."""
    a = m.analysis
    sentiment = getattr(a, "sentiment", None)
    out: dict[str, Any] = {
        "topics": list(getattr(a, "topics", None) or ()),
        "sentiment": round(sentiment, 3) if isinstance(sentiment, (int, float)) else None,
    }
    for s in signals():
        value = s.value_of(a)
        out[s.analysis_key] = value or (getattr(m.post, s.post_field, None) if s.post_field else value)
    return out


def triage_json(t: Triage | None, mention_id: int | None = None,
                names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A mention's triage (a never-triaged mention is open and unassigned).

    ``assignee`` and ``updated_by`` are account keys (``account:<id>`` / ``operator``); the
    ``*_name`` fields are the display names in ``names`` (see api/dashboard/staff.py)."""
    t = t or Triage(mention_id or 0)
    names = names or {}
    return {"mention_id": t.mention_id, "status": t.status, "assignee": t.assignee,
            "assignee_name": names.get(t.assignee, t.assignee) if t.assignee else None,
            "tags": list(t.tags),
            "updated_at": t.updated_at.isoformat().replace("+00:00", "Z") if t.updated_at else None,
            "updated_by": t.updated_by,
            "updated_by_name": names.get(t.updated_by, t.updated_by) if t.updated_by else None}


def triage_keys(triage: Iterable[Triage | None]) -> set[str]:
    """The account keys a set of triage rows names (to look their display names up at once)."""
    return {k for t in triage if t is not None for k in (t.assignee, t.updated_by) if k}


def reply_json(desk: ReplyDesk | None, m: Mention) -> dict[str, Any] | None:
    """How a reply to ``m`` would go out, for its card's reply button: the configured source
    that would send it (``None`` when none can, or the platform needs no account) and why
    sending is off ("" when on); ``None`` when replies on its platform are not written here.
    Per source, not per platform: of two Mastodon instances one may be off."""
    route = desk.reply_source_of(m) if desk is not None else None
    if route is None:
        return None
    source, off = route
    return {"source": source, "off": off}


def dashboard_mention_json(m: Mention, customers: dict[str, Customer],
                           triage: Triage | None = None,
                           names: Mapping[str, str] | None = None,
                           desk: ReplyDesk | None = None) -> dict[str, Any]:
    """A mention as the dashboard shows it: the API shape plus analysis, triage and how a
    reply to it would go out (``reply_json``)."""
    body = mention_json(m, customers)
    body["analysis"] = analysis_json(m)
    body["triage"] = triage_json(triage, m.id, names)
    body["reply"] = reply_json(desk, m)
    return body


def live_mention_json(m: Mention, customers: dict[str, Customer],
                      desk: ReplyDesk | None = None) -> dict[str, Any]:
    """A newly stored mention as a live event carries it: only what the stream renders and
    triages, since every byte is written once per open dashboard (``created_at`` stays a
    datetime: the stream's encoder writes it as UTC with a ``Z``)."""
    p, a = m.post, m.analysis
    sentiment = a.sentiment
    return {
        "id": m.id, "source": p.source, "external_id": p.external_id,
        "author": {"handle": p.author.handle, "name": p.author.name},
        "text": p.text, "created_at": p.created_at, "url": p.url,
        "links": [link_json(k, customers) for k in a.links],
        "analysis": {"topics": a.topics,
                     "sentiment": round(sentiment, 3) if isinstance(sentiment, (int, float)) else None,
                     **{s.analysis_key: s.value_of(a) for s in signal_facets()}},
        # Nobody triaged a mention that was just stored.
        "triage": {"mention_id": m.id, "status": "open", "assignee": None, "tags": ()},
        "reply": reply_json(desk, m),
    }


def note_json(n: TriageNote, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A private note: ``author`` is an account key, ``author_name`` its display name."""
    return {"id": n.id, "mention_id": n.mention_id, "author": n.author,
            "author_name": (names or {}).get(n.author, n.author), "body": n.body,
            "created_at": n.created_at.isoformat().replace("+00:00", "Z")}
