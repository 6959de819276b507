"""The composition root: settings -> store -> analyser -> sources, opened and closed together."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from config.settings import Settings
from crmsphere import __version__
from community.routing import Router
from community.routing_consumer import RoutingConsumer
from community.event_consumer import EventConsumer
from community.notify_consumer import notifications_consumer
from community.idea_events import IdeaEvents
from community.notify import Notifier, unsubscribe_key
from community.net_guard import guarded_session
from community.replies import ReplyDesk
from community.reply_shipped import draft_shipped_replies
from community.reply_writers import writers_by_source
from crmsphere.sources import SourceRunner
from crmsphere.customer_watch import CustomerWatch
from domain import Mention
from crmsphere.live import MentionHub
from crmsphere.refused_aliases import gazetteer_registry
from crm.outbound import CrmOutbound
from crm.outbound_consumer import crm_consumer
from crm.sync import CrmSync
from nlp.runner import Analyzer
import nlp.signals  # noqa: F401  (registers every NLP signal before the store reads them)
from storage import Store, open_store

log = logging.getLogger(__name__)

USER_AGENT = f"crmsphere/{__version__}"


@dataclass(slots=True)
class Runtime:
    """The long-lived parts every command and the web app work with."""

    settings: Settings
    store: Store
    analyzer: Analyzer
    http: aiohttp.ClientSession
    sources: SourceRunner
    #: Routing rules applied to stored mentions (and, later, idea events).
    router: Router | None = None
    #: Fans newly stored mentions out to open dashboards (the live stream).
    live: MentionHub | None = None
    #: Follower and account mail through the outbox.
    notifier: Notifier | None = None
    #: Idea events (routing, follower notifications), handed to ``Ideas``/``Engagement``.
    idea_events: IdeaEvents | None = None
    #: Inbound CRM sync (connectors, health, scheduled like a source).
    crm: CrmSync | None = None
    #: Customer events to CRM timelines and the bridge's event stream (through the outbox).
    crm_outbound: CrmOutbound | None = None

    #: Reloads the gazetteer when another process changed the customers (its checks are a
    #: job of the coordinator, crmsphere/jobs.py).
    customer_watch: CustomerWatch | None = None
    #: Replies where the customer spoke (drafts, approvals, sends; the ``replies`` job).
    replies: ReplyDesk | None = None
    #: Routes stored mentions from their recorded events (a coordinator job and ingest's wake-up).
    routing_events: RoutingConsumer | None = None
    #: Team notes and shipped replies of recorded status changes (a coordinator job and a
    #: wake-up after the change).
    notification_events: EventConsumer | None = None
    #: Recorded mentions, ideas and routings to CRM timelines and the bridge (likewise).
    crm_events: EventConsumer | None = None

    async def reload_customers(self) -> None:
        """Rebuild the NLP gazetteer from the store (after customers changed)."""
        if self.customer_watch is not None:  # this reload covers the change it made
            await self.customer_watch.mark_loaded()
        await self.analyzer.start(await gazetteer_registry(self.store),
                                  await self.store.link_negatives())

    async def gazetteer_in_step(self) -> bool:
        """True when no other process changed customers since this one loaded them.

        Ask before writing a manager's decision: afterwards the store's change marker
        also moved for this process's own write.
        """
        return self.customer_watch is None or await self.customer_watch.is_current()

    async def learn_customers(self, customer_ids: Sequence[str], *, negatives: bool = False,
                              in_step: bool = True) -> None:
        """Teach the gazetteer handles and aliases ``customer_ids`` gained (and the rejections
        when ``negatives``) in place; a full reload when that cannot be done.

        A confirmation or rejection changes one customer: rebuilding 100k customers for it
        took seconds and, before reloads freed the old pipeline, leaked it.  ``in_step`` is
        ``gazetteer_in_step()`` as asked before the write: when another process had changed
        customers, only a full reload catches up.
        """
        if in_step and self.analyzer.started:  # else the reload starts it, as it always did
            ids = list(dict.fromkeys(customer_ids))
            customers = await self.store.get_customers(ids) if ids else {}
            negs = await self.store.link_negatives() if negatives else None
            if len(customers) == len(ids) and await self.analyzer.learn(list(customers.values()), negs):
                if ids and self.customer_watch is not None:
                    # The marker moved for this very change (a rejection does not move it).
                    await self.customer_watch.mark_loaded()
                return
        await self.reload_customers()


@asynccontextmanager
async def open_runtime(settings: Settings, *, with_nlp: bool = True) -> AsyncIterator[Runtime]:
    """Open the store, start the analyser (unless ``with_nlp`` is false) and build the sources."""
    store = await open_store(settings.store.url)
    live: MentionHub | None = None
    crm: CrmSync | None = None
    analyzer = Analyzer.from_settings(settings.nlp)
    # "Same text from many accounts" is counted in the store: across processes and restarts.
    analyzer.repeat_counter = store.count_text_authors
    http = aiohttp.ClientSession(
        headers={"User-Agent": USER_AGENT},
        timeout=aiohttp.ClientTimeout(total=120, sock_connect=15, sock_read=60))
    watch: CustomerWatch | None = None
    replies: ReplyDesk | None = None
    # Replies go to addresses typed into the configuration: kept off internal networks like
    # team webhooks (routing.allow_private_targets lifts it, as for them).
    reply_options = {"headers": {"User-Agent": USER_AGENT}, "timeout": aiohttp.ClientTimeout(total=60)}
    reply_http = aiohttp.ClientSession(**reply_options) if settings.routing.allow_private_targets \
        else guarded_session(**reply_options)

    async def reload_gazetteer() -> None:
        await analyzer.start(await gazetteer_registry(store), await store.link_negatives())

    routing_events: RoutingConsumer | None = None
    try:
        if with_nlp:
            watch = CustomerWatch(store, reload_gazetteer)
            await watch.mark_loaded()
            customers = await gazetteer_registry(store)
            await analyzer.start(customers, await store.link_negatives())
            log.info("nlp: pipeline ready with %d customers, %d worker process(es)",
                     len(customers), settings.nlp.workers)
        router = Router(store, settings.routing)
        await router.start()
        notifier = Notifier(store, settings.notify, settings.forum, settings.routing.public_url,
                            await unsubscribe_key(store, settings.notify, os.environ))
        run_lease_ttl = settings.scheduler.lease_ttl  # failover after a crash mid-run, as for the scheduler
        routing_events = RoutingConsumer(store, router, idea_url=notifier.base_url)
        live = MentionHub(store)

        async def customers_changed() -> None:
            if watch is not None:  # the gazetteer only exists where the pipeline runs
                await watch.mark_loaded()
                await reload_gazetteer()

        crm = CrmSync(store, settings.crm, on_customers_changed=customers_changed,
                      impact=settings.forum.impact, run_lease_ttl=run_lease_ttl,
                      languages=settings.nlp.languages)
        crm_outbound = CrmOutbound(store, settings.crm, settings.routing.public_url, crm.connectors,
                                   closed_statuses=[s.key for s in settings.forum.statuses if s.closed])
        notification_events = notifications_consumer(store, notifier)
        crm_events = crm_consumer(store, crm_outbound)
        idea_events = IdeaEvents(store, settings.notify, notifier.base_url, router, notifier,
                                 routing=routing_events, crm=crm_outbound,
                                 consumers=(notification_events, crm_events))

        async def stored(mentions: Sequence[Mention]) -> None:
            # After a commit: the wake-ups only save the wait for the next rounds; every
            # consumer reads the recorded events either way (the live feed takes the
            # mentions they name from here rather than reading them back).
            await routing_events.wake()
            live.hand_over(mentions)
            await crm_events.wake()

        sources = SourceRunner(store, analyzer, settings.sources, http,
                               on_stored=stored, run_lease_ttl=run_lease_ttl)
        await sources.start()
        await crm.start()
        writers = writers_by_source([s.model_dump() for s in settings.sources], os.environ, reply_http)
        replies = ReplyDesk(store, settings.replies, writers, on_sent=crm_outbound.reply_sent)
        notifier.shipped_replies = lambda idea, change: draft_shipped_replies(
            replies, idea, change, f"{notifier.base_url}/forum/ideas/{idea.id}")
        yield Runtime(settings, store, analyzer, http, sources, router=router, live=live,
                      notifier=notifier, idea_events=idea_events, crm=crm,
                      crm_outbound=crm_outbound, customer_watch=watch, replies=replies,
                      routing_events=routing_events, notification_events=notification_events,
                      crm_events=crm_events)
    finally:
        if routing_events is not None:  # rounds a vote started in the background
            await routing_events.settle()
        if replies is not None:  # before its HTTP session: a woken round may be posting
            await replies.sender.close()
        await reply_http.close()
        if live is not None:
            await live.close()
        if crm is not None:
            await crm.close()
        await http.close()
        await analyzer.close()
        await store.close()
