"""kill -9 right after the commit: a process stores a mention and is killed (SIGKILL) inside
its after-commit hook, before any routing.  The mention and its ``mention.stored`` event were
committed together, so the routing consumer of a running ``crmsphere serve`` routes it, once."""

from __future__ import annotations

from community.routing_consumer import CONSUMER
from domain.events import MENTION_STORED
from storage import Store
from tests.serve_helpers import wait_for
from tests.serving import Served

#: The storing process: one real post, then SIGKILL in the hook that would have routed it.
STORE_AND_DIE = """
import asyncio, os, signal, sys
from crmsphere.ingest import store_posts
from storage import open_store
from tests.community.test_routing_events import NoNlp
from tests.conftest import post

async def killed_after_commit(_mentions):
    os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = await open_store(sys.argv[1])
    await store_posts(store, NoNlp(), "x:acme", [post(
        "1864921530", "@AcmeAnvils still no REFUND after 3 weeks \\U0001f624 #fail",
        handle="acmeanvils")], {"since_id": "1864921530"}, killed_after_commit)

asyncio.run(main())
"""


async def test_a_mention_committed_before_kill_9_is_routed_once_by_the_server(served: Served) -> None:
    served.commit_and_die(STORE_AND_DIE)

    async def check(store: Store) -> None:
        # Committed with its cursor and event before the kill.
        assert await store.get_cursor("x:acme") == {"since_id": "1864921530"}
        (event,) = await store.read_events(0, [MENTION_STORED])

        async def routed():
            return (await store.team_queue("care")).items

        (item,) = await wait_for(routed)
        assert item.item.id == event.subject_id and item.item.customer_id == "cus_acme"

        async def consumed():
            return await store.get_event_cursor(CONSUMER) >= event.id

        await wait_for(consumed)

    await served.with_store(check)
    assert served.count("SELECT count(*) FROM routed_items") == 1
