"""Shared set-up of the replies workflow tests: a fake Mastodon on 127.0.0.1, a stored
mention of a known customer there, and a desk whose clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from aiohttp.test_utils import TestServer

from collectors.replies import build_writer
from community.replies import ReplyActor, ReplyDesk
from community.reply_writers import writers_by_source
from config.replies import RepliesSettings
from domain import Analysis, Author, CustomerLink, Mention, RawPost
from storage import Store
from tests.collectors.replies.fake_mastodon_writes import MastodonWrites
from tests.conftest import T0, customer
from tests.stored import stored_mention_ids

STATUS_ID = "115600000000000101"
#: The configured Mastodon source (its ``name``) that read the mentions of these tests.
SOURCE_KEY = "mastodon-social"
MANAGER = ReplyActor("account:1", "manager")
SECOND_MANAGER = ReplyActor("account:2", "manager")
TEAM_MEMBER = ReplyActor("account:3", "team")
CUSTOMER = ReplyActor("account:9", "customer")


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


async def mastodon_mention(store: Store, external_id: str = STATUS_ID, source: str = "mastodon",
                           customer_id: str = "cus_target", name: str = "Target Logistics",
                           key: str | None = None) -> int:
    """A stored mention by a linked customer, as source ``key`` (the Mastodon source of
    these tests for a Mastodon post, else the platform's name) stored it; its id."""
    await store.upsert_customers([customer(customer_id, name)])
    post = RawPost(source, external_id, Author("target@mastodon.example", "Target"),
                   "Anyone tried the bulk routing API?", T0,
                   url=f"https://mastodon.example/@target/{external_id}")
    link = CustomerLink(customer_id, 0.95, "handle", "@target handle")
    key = key or (SOURCE_KEY if source == "mastodon" else source)
    await store.save_mentions(key, [Mention(post, Analysis(links=(link,)))], None)
    return (await stored_mention_ids(store, [(source, external_id)]))[(source, external_id)]


async def fake_mastodon(fake: MastodonWrites) -> TestServer:
    """The fake instance, started on 127.0.0.1."""
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    return server


#: The environment variable the served app's Mastodon source reads its posting token from.
TOKEN_ENV = "TEST_MASTODON_REPLY_TOKEN"


def mastodon_source(base: str) -> str:
    """The config of one Mastodon source at ``base`` that may post (``[sources.reply]``)."""
    return f'''
[[sources]]
kind = "mastodon"
name = "{SOURCE_KEY}"
instance = "{base}"
hashtags = ["nimbus"]

[sources.reply]
access_token_env = "{TOKEN_ENV}"
'''


@asynccontextmanager
async def served_mastodon() -> AsyncIterator[tuple[MastodonWrites, str]]:
    """A fake instance holding the customer's status, served on 127.0.0.1, and its URL."""
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "Anyone tried the bulk routing API?")
    server = await fake_mastodon(fake)
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def desk_for(store: Store, server: TestServer, http: aiohttp.ClientSession, clock: Clock,
             settings: RepliesSettings | None = None, token: str = "reply-token-of-nimbus",
             on_sent: object = None) -> ReplyDesk:
    """A desk with the Mastodon writer pointed at ``server`` and Hacker News."""
    base = str(server.make_url("")).rstrip("/")
    table = {"kind": "mastodon", "name": SOURCE_KEY, "instance": base,
             "reply": {"access_token_env": "MASTODON_REPLY_TOKEN"}}
    writers = writers_by_source([table, {"kind": "hackernews", "name": "hn"}],
                                {"MASTODON_REPLY_TOKEN": token}, http)
    assert not isinstance(writers.by_source[SOURCE_KEY], Exception)
    assert build_writer(table, {"MASTODON_REPLY_TOKEN": token}, http) is not None
    return ReplyDesk(store, settings or RepliesSettings(), writers, clock=clock, on_sent=on_sent)  # type: ignore[arg-type]
