"""CRM outbound as a consumer of recorded events (cursor ``crm``): linked mentions, public
ideas, status changes and routings become CRM timeline entries and bridge events.

Every delivery is enqueued under an idempotency key derived from the event, the item and the
customer (crm/outbound.py), so a page handed again after a crash enqueues nothing new.  A
status change is published as it was made (its recorded status and response), not as the
idea is by the time the consumer reads it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from community.event_consumer import EventConsumer
from community.notify_consumer import change_of
from crm.outbound import CrmOutbound
from domain import Mention
from domain.events import (
    IDEA_CREATED,
    IDEA_STATUS_CHANGED,
    ITEM_ROUTED,
    MENTION_STORED,
    RecordedEvent,
    subject_number,
)
from domain.errors import NotFound
from storage.base import Store

log = logging.getLogger(__name__)

#: The consumer's name, the key of its cursor.
CONSUMER = "crm"
KINDS = (MENTION_STORED, IDEA_CREATED, IDEA_STATUS_CHANGED, ITEM_ROUTED)


def crm_consumer(store: Store, outbound: CrmOutbound) -> EventConsumer:
    """The ``crm`` consumer over ``outbound``."""

    async def handle(events: Sequence[RecordedEvent]) -> None:
        # Nothing can go anywhere (no connector, no bridge subscriber): the events pass, as
        # the producers' hand-overs did before (a CRM enabled later starts from its events).
        if not outbound.active:
            return
        mentions: list[Mention] = []
        for event in events:
            subject = subject_number(event.subject_id)
            if subject is None:  # not written by this program; never blocks the rest
                log.warning("event %d (%s) names no item: %r", event.id, event.kind, event.subject_id[:80])
                continue
            try:
                if event.kind == MENTION_STORED:
                    mentions.append(await store.get_mention(subject))
                elif event.kind == ITEM_ROUTED:
                    await outbound.routed(await store.get_routed(subject))
                elif event.kind == IDEA_CREATED:
                    await outbound.idea_created(await store.get_idea(subject))
                elif event.kind == IDEA_STATUS_CHANGED:
                    await _status_changed(store, outbound, event, subject)
            except NotFound:  # deleted since: nothing to tell the CRM about
                continue
        await outbound.mentions_linked(mentions)

    return EventConsumer(store, CONSUMER, KINDS, handle)


async def _status_changed(store: Store, outbound: CrmOutbound, event: RecordedEvent, idea_id: int) -> None:
    idea = await store.get_idea(idea_id)
    change = change_of(await store.status_history(idea_id), event)
    if change is None:
        log.warning("event %d: idea %s has no change to %r", event.id, idea_id, event.payload.get("to"))
        return
    as_changed = dataclasses.replace(idea, status=change.to_status, status_response=change.response,
                                     status_changed_at=change.created_at)
    await outbound.status_changed(as_changed)
    await outbound.idea_closed(as_changed)
