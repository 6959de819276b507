"""Outbound: customer events -> outbox deliveries -> CRM timeline entries and bridge events.

The recorded events (``mention.stored``, ``idea.created``, ``idea.status_changed``,
``item.routed``) reach it through its own cursor (crm/outbound_consumer.py), so a process
dying after a commit loses none; a vote and a sent reply are still handed over by their
producer after the write.  Each event becomes, in one outbox transaction,

- a ``crm:<kind>`` delivery when the customer is fed by an enabled CRM connector
  and the event is one of ``crm.timeline_events`` (a timeline entry; for
  ``customer.idea.closed`` an open task for the owner of the customer's account);
- a signed ``webhook`` delivery to every bridge subscriber listening to it (the
  same body, headers and signature as team webhooks).

Idempotency keys are derived from the event, the item and the customer, so a
replayed event enqueues nothing new.  The delivery worker calls ``deliver`` for
``crm:*`` deliveries; the CRM id written is kept with the key, and a retry after a
lost acknowledgement finds it instead of writing a second note.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from community.deliveries_channels import DeliveryFailed
from community.routing_items import speaking_customer
from domain.routing import Delivery, RoutedItem
from config.crm import CrmSettings
from crm.base import CrmConnector, OwnerTask, TimelineEntry
from crm.records import feeding_link
from domain import Customer, Mention, utcnow
from domain.forum import Idea
from domain.replies import Reply
from domain.errors import AuthFailed, BadItem, SourceUnavailable
from domain.signals import payload_signals
from storage.base import Store

log = logging.getLogger(__name__)

IDEA_CLOSED = "customer.idea.closed"
CRM_TEAM = "@crm"
BRIDGE_TEAM = "@bridge"
MAX_BODY = 2000


@dataclass(frozen=True, slots=True)
class CustomerEvent:
    """Something a customer said or did (or that happened to an item about them)."""

    type: str
    item_key: str
    subject: str
    body: str
    url: str
    occurred_at: datetime
    customer_id: str | None = None
    data: Mapping[str, Any] | None = None


class CrmOutbound:
    """Turns customer events into outbox deliveries and delivers ``crm:*`` ones."""

    def __init__(self, store: Store, settings: CrmSettings, public_url: str,
                 connectors: Mapping[str, CrmConnector],
                 clock: Callable[[], datetime] = utcnow, closed_statuses: Collection[str] = ("done", "declined")) -> None:
        self.store, self.settings, self.clock = store, settings, clock
        #: the forum's closing statuses: reaching one tells each voter's account owner
        self.closed_statuses = frozenset(closed_statuses)
        self.public_url = public_url.rstrip("/")
        #: the live dict of ``CrmSync.connectors`` (enabled and configured ones)
        self.connectors = connectors
        #: voters of a closed idea read per store call
        self.voter_page = 500

    @property
    def active(self) -> bool:
        """Whether any event can go anywhere (a connector or a bridge subscriber)."""
        return bool(self.connectors) or bool(self.settings.bridge.subscribers)

    # -- recorded events (through crm/outbound_consumer.py; failures propagate) -------------------
    async def mentions_linked(self, mentions: Sequence[Mention]) -> None:
        """``customer.mention.linked`` for each sure enough customer link of stored mentions
        (with their ids).  Mentions stored by a backfill are history and never reach a CRM
        timeline.  A failure propagates (the consumer's cursor stays before it)."""
        mentions = [m for m in mentions if not m.backfill and m.id is not None]
        if not self.active or not mentions:
            return
        for m in mentions:
            for link in m.analysis.links:
                if link.status == "pending" or link.confidence < self.settings.min_confidence:
                    continue
                post = m.post
                # Every NLP signal the registry sends along (sentiment label, intent, and any
                # declared since), in registration order: in the note and in the event's data.
                held = [(s.name, value) for s in payload_signals()
                        if (value := s.value_of(m.analysis)) is not None]
                await self.publish(CustomerEvent(
                    "customer.mention.linked", f"mention:{m.id}",
                    f"{post.source} mention by @{post.author.handle}",
                    f"{post.text[:MAX_BODY]}\n\n({link.evidence}; confidence "
                    f"{link.confidence:.2f}; {', '.join(value for _, value in held)})"
                    + (f"\n{post.url}" if post.url else ""),
                    f"{self.public_url}/api/mentions/{m.id}", post.created_at,
                    link.customer_id,
                    {"mention_id": m.id, "source": post.source, "url": post.url,
                     "author": post.author.handle, "text": post.text[:MAX_BODY],
                     "confidence": link.confidence, "evidence": link.evidence, **dict(held)}))

    def _idea_data(self, idea: Idea) -> dict[str, Any]:
        return {"idea_id": idea.id, "title": idea.title, "status": idea.status,
                "votes": idea.vote_count}

    async def idea_created(self, idea: Idea) -> None:
        """``customer.idea.created`` for the customer of the idea's author."""
        if not self.active or idea.author_id is None:
            return
        account = (await self.store.get_accounts([idea.author_id])).get(idea.author_id)
        customer_id = account.customer_id if account is not None else None
        await self.publish(CustomerEvent(
            "customer.idea.created", f"idea:{idea.id}", f"Idea submitted: {idea.title}",
            idea.body[:MAX_BODY], f"{self.public_url}/forum/ideas/{idea.id}", idea.created_at,
            customer_id, self._idea_data(idea)))

    async def status_changed(self, idea: Idea) -> None:
        """``idea.status_changed`` (bridge only: it concerns every follower, not one customer)."""
        if not self.active:
            return
        await self.publish(CustomerEvent(
            "idea.status_changed", f"idea:{idea.id}:{idea.status}",
            f"Idea {idea.title} is now {idea.status}", idea.status_response or "",
            f"{self.public_url}/forum/ideas/{idea.id}", idea.status_changed_at or self.clock(),
            None, self._idea_data(idea)))

    async def idea_closed(self, idea: Idea) -> None:
        """``customer.idea.closed`` for every customer who voted for ``idea`` when it reaches a
        closing status: the CRM connector makes it an open task for the owner of the
        customer's account, who can tell them (once per customer and status, however often
        replayed).  Voters are read a page at a time: an idea may have 100k of them."""
        if not self.active or idea.status not in self.closed_statuses:
            return
        when = idea.status_changed_at or self.clock()
        after: str | None = None
        while True:  # a failure propagates: the consumer's cursor stays and the page is replayed
            voters = await self.store.idea_voter_ids(idea.id, after, self.voter_page)
            for customer_id in voters:
                await self.publish(CustomerEvent(
                    IDEA_CLOSED, f"idea:{idea.id}:{idea.status}",
                    f"An idea they voted for is now {idea.status}: {idea.title}",
                    ((idea.status_response or "")[:MAX_BODY] + "\n\n" if idea.status_response else "")
                    + "They asked for it: let them know.",
                    f"{self.public_url}/forum/ideas/{idea.id}", when, customer_id, self._idea_data(idea)))
            if len(voters) < self.voter_page:
                return
            after = voters[-1]

    async def routed(self, routed: RoutedItem) -> None:
        """``item.routed``: an item about the customer went to a team's queue."""
        if not self.active:
            return
        item = routed.item
        await self.publish(CustomerEvent(
            "item.routed", f"routed:{routed.id}",
            f"{item.kind.capitalize()} routed to team {routed.team_key} ({routed.priority})",
            (item.title + "\n\n" if item.title else "") + item.text[:MAX_BODY],
            f"{self.public_url}/api/routed/{routed.id}", routed.routed_at or self.clock(),
            item.customer_id, {"routed_id": routed.id, "team": routed.team_key,
                               "kind": item.kind, "item_id": item.id, "rule": routed.rule_id,
                               "priority": routed.priority, "url": item.url}))

    # -- producers' hand-overs (logged at this boundary: the producer's write is stored) ------------
    async def voted(self, idea: Idea, customer_id: str) -> None:
        """``customer.voted``: the customer voted for the idea."""
        if not self.active:  # every vote passes here: nothing to make when nothing is sent
            return
        await self._safe(CustomerEvent(
            "customer.voted", f"vote:{idea.id}", f"Voted for idea: {idea.title}",
            f"{idea.title} now has {idea.vote_count} vote(s).",
            f"{self.public_url}/forum/ideas/{idea.id}", self.clock(), customer_id,
            self._idea_data(idea)))

    async def links_confirmed(self, mentions: Sequence[Mention]) -> None:
        """A manager confirmed pending links of these stored mentions: their
        ``customer.mention.linked`` entries (a confirmation records no event)."""
        try:
            await self.mentions_linked(mentions)
        except Exception:  # boundary: the decision is stored; one traceback
            log.exception("crm outbound for %d confirmed mention(s) failed", len(mentions))

    async def reply_sent(self, reply: Reply, mention: Mention) -> None:
        """``customer.reply.sent``: our reply to the customer's mention is on the platform."""
        link = speaking_customer(mention)
        if link is None:
            return
        names = await self._staff_names([reply.approved_by, reply.sent_by])
        who = f"approved by {names.get(reply.approved_by or '', reply.approved_by)}, " if reply.approved_by else ""
        sender = names.get(reply.sent_by or "", reply.sent_by or "unknown")
        await self._safe(CustomerEvent(
            "customer.reply.sent", f"reply:{reply.id}",
            f"Replied on {reply.source} to @{mention.post.author.handle}",
            f"{reply.text[:MAX_BODY]}\n\n({who}sent by {sender})"
            + (f"\n{reply.platform_url}" if reply.platform_url else ""),
            reply.platform_url or f"{self.public_url}/api/mentions/{mention.id}",
            reply.sent_at or self.clock(), link.customer_id,
            {"reply_id": reply.id, "mention_id": mention.id, "source": reply.source,
             "platform_id": reply.platform_id, "url": reply.platform_url, "text": reply.text[:MAX_BODY]}))

    async def _staff_names(self, keys: Sequence[str | None]) -> dict[str, str]:
        """Display names of ``account:<id>`` keys (other keys, e.g. the job's, stay as they are)."""
        ids = {int(k.split(":", 1)[1]): k for k in keys if k and k.startswith("account:") and k[8:].isdigit()}
        if not ids:
            return {}
        accounts = await self.store.get_accounts(sorted(ids))
        return {key: accounts[i].name for i, key in ids.items() if i in accounts and accounts[i].name}

    async def _safe(self, event: CustomerEvent) -> None:
        if not self.active:
            return
        try:
            await self.publish(event)
        except Exception:  # boundary: the producer's write is stored; log once
            log.exception("crm outbound for %s %s failed", event.type, event.item_key)

    # -- the outbox -------------------------------------------------------------------------------
    async def publish(self, event: CustomerEvent) -> list[int]:
        """Enqueue the deliveries ``event`` calls for; returns the ids of those newly enqueued."""
        now = self.clock()
        customer: Customer | None = None
        if event.customer_id:
            customer = (await self.store.get_customers([event.customer_id])).get(event.customer_id)
        deliveries = []
        link = await feeding_link(self.store, event.customer_id) if event.customer_id else None
        if link is not None and link.connector in self.connectors and \
                event.type in self.settings.timeline_events:
            company = link.crm_id if link.object_type == "company" else link.company_crm_id
            contact = link.crm_id if link.object_type == "contact" else None
            deliveries.append(Delivery(
                routed_id=None, team_key=CRM_TEAM, channel=f"crm:{link.connector}",
                target={"connector": link.connector, "object_type": link.object_type,
                        "crm_id": link.crm_id, "company_crm_id": company,
                        "contact_crm_id": contact},
                payload={"type": event.type, "subject": event.subject, "body": event.body,
                         "url": event.url, "occurred_at": event.occurred_at.isoformat()},
                idempotency_key=f"crm:{link.connector}:{event.type}:{event.item_key}:"
                                f"{event.customer_id}", next_attempt_at=now))
        for subscriber in self.settings.bridge.subscribers:
            if event.type not in subscriber.events:
                continue
            tag = hashlib.sha256(subscriber.url.encode()).hexdigest()[:12]
            deliveries.append(Delivery(
                routed_id=None, team_key=BRIDGE_TEAM, channel="webhook",
                target={"url": subscriber.url, "secret_env": subscriber.secret_env},
                payload={"type": event.type, "occurred_at": event.occurred_at.isoformat(),
                         "url": event.url, "subject": event.subject,
                         "customer": _customer_json(customer, link), "data": dict(event.data or {})},
                idempotency_key=f"bridge:{tag}:{event.type}:{event.item_key}:"
                                f"{event.customer_id or '-'}", next_attempt_at=now))
        if not deliveries:
            return []
        return await self.store.enqueue_deliveries_once(deliveries, now)

    async def deliver(self, delivery: Delivery) -> None:
        """Send one ``crm:<kind>`` delivery: a timeline entry written once per idempotency key."""
        kind = delivery.channel.removeprefix("crm:")
        connector = self.connectors.get(kind)
        if connector is None:
            raise DeliveryFailed(f"crm {kind} is not enabled or not configured")
        key = delivery.idempotency_key
        if await self.store.get_outbound(kind, key):
            return  # written before; only the acknowledgement was lost
        target, payload = delivery.target, delivery.payload
        try:
            entry = TimelineEntry(
                idempotency_key=key, subject=str(payload["subject"]), body=str(payload["body"]),
                url=str(payload["url"]), occurred_at=datetime.fromisoformat(str(payload["occurred_at"])),
                company_crm_id=target.get("company_crm_id"), contact_crm_id=target.get("contact_crm_id"))
        except (KeyError, ValueError) as exc:
            raise DeliveryFailed(f"malformed crm delivery: {exc}", permanent=True) from None
        try:
            if payload.get("type") == IDEA_CLOSED:
                crm_id = await self._write_owner_task(kind, connector, entry)
            else:
                crm_id = await connector.write_timeline(entry)
        except SourceUnavailable as exc:
            raise DeliveryFailed(f"{kind}: {exc}", retry_after=exc.retry_after) from None
        except BadItem as exc:
            raise DeliveryFailed(f"{kind} refused the entry: {exc}", permanent=True) from None
        except AuthFailed as exc:  # credentials may be fixed before the attempts run out
            raise DeliveryFailed(f"{kind} refused the credentials: {exc}") from None
        await self.store.save_outbound(kind, key, crm_id, self.clock())

    async def _write_owner_task(self, kind: str, connector: CrmConnector, entry: TimelineEntry) -> str:
        """The open task for the account owner; its CRM id.  A record without an owner gets
        it unassigned, and the log says so (someone has to pick it up)."""
        days = self.settings.connectors()[kind].idea_closed_task_days
        written = await connector.write_owner_task(OwnerTask(entry, self.clock() + timedelta(days=days)))
        if written.owner_id is None and not written.existed:
            log.warning("crm %s: %s has no owner in the CRM; task %s (%s) created unassigned",
                        kind, entry.company_crm_id or entry.contact_crm_id, written.crm_id,
                        entry.subject)
        return written.crm_id


def _customer_json(customer: Customer | None, link: Any) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"id": customer.id, "name": customer.name, "kind": customer.kind,
            "company": customer.company, "segment": customer.segment,
            "crm": {"connector": link.connector, "object_type": link.object_type,
                    "crm_id": link.crm_id} if link is not None else None}
