"""kill -9 between the platform taking a reply and the store recording it: a real process is
killed right after the send returned; the replies job of another process asks the platform,
finds the reply and records it — one post on the platform."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from community.replies import ReplyActor
from config.replies import RepliesSettings
from storage import open_store
from tests.collectors.replies.fake_mastodon_writes import OUR_ACCOUNT, MastodonWrites
from tests.community.reply_fixtures import STATUS_ID, Clock, desk_for, mastodon_mention

# Run in a child process: approve reply ``argv[3]``, and in the sending round the approval woke die by SIGKILL the moment
# the platform has answered, before the answer is recorded.
CHILD = r'''
import asyncio, os, signal, sys
import aiohttp
from community.reply_writers import writers_by_source
from collectors.replies.mastodon import MastodonReplies
from community.replies import ReplyActor, ReplyDesk
from config.replies import RepliesSettings
from storage import open_store

class KilledAfterSend(MastodonReplies):
    async def send(self, target, text):
        await super().send(target, text)
        os.kill(os.getpid(), signal.SIGKILL)

async def main(url, base, reply_id):
    store = await open_store(url)
    async with aiohttp.ClientSession() as http:
        table = {"kind": "mastodon", "name": "mastodon-social", "instance": base,
                 "reply": {"access_token_env": "T"}}
        writers = writers_by_source([table], {"T": "reply-token-of-nimbus"}, http)
        real = writers.by_source["mastodon-social"]
        writers.by_source["mastodon-social"] = KilledAfterSend(real.credentials, real.options, http)
        desk = ReplyDesk(store, RepliesSettings(), writers)
        await desk.approve(ReplyActor("account:2", "manager"), int(reply_id))
        await desk.sender.settled()  # the round the approval woke: killed right after posting

asyncio.run(main(*sys.argv[1:4]))
'''


async def test_killed_after_the_send_the_job_finds_the_reply_and_posts_nothing_twice(tmp_path: Path) -> None:
    fake = MastodonWrites()
    fake.add_status(STATUS_ID, "Anyone tried the bulk routing API?")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    store = await open_store(url)
    try:
        base = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as http:
            clock = Clock()
            desk = desk_for(store, server, http, clock, settings=RepliesSettings())
            mention_id = await mastodon_mention(store)
            draft = await desk.draft(ReplyActor("account:1", "manager"), mention_id,
                                     text="Thanks! Bulk routing shipped: https://ideas.example/forum/ideas/3")
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CHILD, url, base, str(draft.id),
                cwd=Path(__file__).resolve().parents[2])
            assert await child.wait() == -signal.SIGKILL
            ours = [s for s in fake.statuses.values() if s["account"]["id"] == OUR_ACCOUNT["id"]]
            assert len(ours) == 1 and (await store.get_reply(draft.id or 0)).state == "sending"

            # The job (here, another process's desk) leaves a fresh send alone, then asks the platform.
            stuck = await store.get_reply(draft.id or 0)
            clock.now = (stuck.sending_at or clock.now) + timedelta(seconds=desk.settings.stale_sending_seconds + 1)
            run = await desk.sender.run_due()

            done = await store.get_reply(draft.id or 0)
            assert run.sent == 1 and done.state == "sent" and done.platform_id == ours[0]["id"]
            assert len(fake.posts) == 1
    finally:
        await store.close()
        await server.close()
