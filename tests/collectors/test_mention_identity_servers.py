"""Mention identity per server, through the real collectors, the ingest stage and each
backend: two Mastodon instances (or two Discourse forums) giving one id to different posts
store both; one federated status read through two instances (two local ids, one uri/url) is
stored once; RSS guids that are only unique in their feed are kept per feed."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from collectors import create_collector
from crmsphere.ingest import run_collector, store_posts
from domain import Author, MentionQuery, RawPost
from nlp.runner import Analyzer
from storage import Store
from tests.collectors.fake_discourse import Forum
from tests.collectors.fake_discourse import make_app as discourse_app
from tests.collectors.fake_mastodon import RESET, Instance, fixture
from tests.collectors.fake_mastodon import make_app as mastodon_app
from tests.conftest import T0, acme_customers

TARGET_STATUS = "115600000000000101"  # target's status on mastodon.example (the capture)
BOB_STATUS = "115600000000000102"     # bob@fosstodon.example's status as mastodon.example holds it


@pytest.fixture
async def analyzer() -> AsyncIterator[Analyzer]:
    running = Analyzer(workers=0)
    await running.start(acme_customers())
    try:
        yield running
    finally:
        await running.close()


def _social_example() -> Instance:
    """social.example: a status of its own numbered as target's is on mastodon.example, and
    its own copy of bob's federated status under another local id (same uri and url)."""
    captured = fixture("tag_timeline.json")
    lee = copy.deepcopy(next(s for s in captured if s["account"]["acct"] == "lee@social.example"))
    lee["account"]["acct"] = "lee"  # local on its own instance
    lee.update(id=TARGET_STATUS, media_attachments=[],
               content="<p>Our <a href=\"https://social.example/tags/nimbus\">#Nimbus</a> rollout "
                       "went fine, the import took an afternoon.</p>",
               uri=f"https://social.example/users/lee/statuses/{TARGET_STATUS}",
               url=f"https://social.example/@lee/{TARGET_STATUS}")
    bob = copy.deepcopy(next(s for s in captured if s["id"] == BOB_STATUS))
    bob.update(id="113877000000000388", in_reply_to_id=None)  # social.example's own number for it
    return Instance(tags={"nimbus": [lee, bob]})


async def _mastodon(aiohttp_server: Any, http: aiohttp.ClientSession, state: Instance, name: str,
                    host: str) -> Any:
    server = await aiohttp_server(mastodon_app(state))
    options = {"kind": "mastodon", "name": name, "interval": 60, "enabled": True,
               "instance": f"https://{host}", "base_url": str(server.make_url("")),
               "hashtags": ["nimbus"], "credentials": {}}
    collector = create_collector("mastodon", name, options, http)
    collector.clock = lambda: RESET.timestamp() - 60
    return collector


async def test_two_instances_same_id_both_kept_and_a_federated_status_stored_once(
        store: Store, analyzer: Analyzer, aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    await store.upsert_customers(acme_customers())
    main = await _mastodon(aiohttp_server, http, Instance(tags={"nimbus": fixture("tag_timeline.json")}),
                           "mastodon-main", "mastodon.example")
    social = await _mastodon(aiohttp_server, http, _social_example(), "mastodon-social", "social.example")

    first = await run_collector(main, store, analyzer)
    second = await run_collector(social, store, analyzer)

    assert (first.accepted, first.duplicates) == (2, 0)
    # lee's status is new (its id is target's on another server); bob's is the one stored already.
    assert (second.accepted, second.duplicates) == (1, 1)
    stored = (await store.list_mentions(MentionQuery(source="mastodon"))).items
    by_key = sorted((m.source_key, m.post.external_id, m.post.url) for m in stored)
    assert by_key == [
        ("mastodon-main", TARGET_STATUS, f"https://mastodon.example/@target/{TARGET_STATUS}"),
        ("mastodon-main", BOB_STATUS, f"https://fosstodon.example/@bob/{BOB_STATUS}"),
        ("mastodon-social", TARGET_STATUS, f"https://social.example/@lee/{TARGET_STATUS}"),
    ]
    # Read again through either instance: nothing new.
    assert (await run_collector(social, store, analyzer)).accepted == 0
    assert (await store_posts(store, analyzer, "mastodon-social",
                              [p for b in [b async for b in social.fetch(None)] for p in b.posts],
                              None)).accepted == 0


async def _forum(aiohttp_server: Any, http: aiohttp.ClientSession, name: str, says: str) -> Any:
    state = Forum()
    state.load_captured()
    for post in state.posts:  # the same ids, other posts
        post["cooked"] = f"<p>{says}</p>" + post["cooked"]
    server = await aiohttp_server(discourse_app(state))
    options = {"kind": "discourse", "name": name, "interval": 60, "enabled": True,
               "base_url": str(server.make_url("")).rstrip("/"), "credentials": {}}
    return create_collector("discourse", name, options, http)


async def test_two_discourse_forums_numbering_posts_alike_keep_both(
        store: Store, analyzer: Analyzer, aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    # Two forums on the same software count post ids from 1 each: the same ids, other posts.
    await store.upsert_customers(acme_customers())
    community = await _forum(aiohttp_server, http, "forum-community", "From the community forum:")
    partners = await _forum(aiohttp_server, http, "forum-partners", "From the partner forum:")

    first = await run_collector(community, store, analyzer)
    second = await run_collector(partners, store, analyzer)

    assert first.accepted > 0
    assert (second.accepted, second.duplicates) == (first.accepted, 0)
    stored = (await store.list_mentions(MentionQuery(source="discourse", limit=200))).items
    assert len(stored) == 2 * first.accepted
    assert (await run_collector(partners, store, analyzer)).accepted == 0


def _entry(feed: str, guid: str, text: str) -> RawPost:
    """A feed entry as the RSS collector hands it on (its feed in ``thread_id``)."""
    return RawPost(source="rss", external_id=guid, author=Author("Nimbus blog"), text=text,
                   created_at=T0, url=None, thread_id=feed)


async def test_feed_local_guids_are_kept_per_feed_and_global_ones_once(
        store: Store, analyzer: Analyzer) -> None:
    status = "https://status.nimbus.example/history.rss"
    changelog = "https://nimbus.example/changelog.atom"
    await store.upsert_customers(acme_customers())
    # Both feeds number their items "post:1"... (ids with a colon, as the collector keeps them).
    first = await store_posts(store, analyzer, "rss-feeds", [
        _entry(status, "post:1", "Routing API degraded in eu-west"),
        _entry(changelog, "post:1", "Bulk routing is now generally available"),
        _entry(status, "https://nimbus.example/blog/bulk-routing", "Bulk routing GA"),
    ], None)
    # The article's permalink guid in a second feed is the same article.
    again = await store_posts(store, analyzer, "rss-feeds", [
        _entry(changelog, "https://nimbus.example/blog/bulk-routing", "Bulk routing GA"),
        _entry(status, "post:1", "Routing API degraded in eu-west"),
    ], None)
    assert (first.accepted, first.duplicates) == (3, 0)
    assert (again.accepted, again.duplicates) == (0, 2)
