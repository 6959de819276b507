"""``crmsphere serve`` with sources configured in TOML collects from fake servers on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.collectors.fake_bluesky import FakeJetstream
from tests.collectors.fake_discourse import Forum
from tests.collectors.fake_discourse import make_app as discourse_app
from tests.collectors.fake_hackernews import Algolia
from tests.collectors.fake_hackernews import make_app as algolia_app
from tests.collectors.fake_mastodon import Instance
from tests.collectors.fake_mastodon import fixture as mastodon_fixture
from tests.collectors.fake_mastodon import make_app as mastodon_app
from tests.collectors.fake_reddit import FakeReddit
from tests.collectors.fake_rss import FeedHost
from tests.collectors.fake_rss import fixture as rss_fixture
from tests.collectors.fake_rss import make_app as rss_app
from tests.collectors.fake_x import BEARER as X_BEARER
from tests.collectors.fake_x import FakeX
from tests.serve_helpers import free_port, start_serve, stop_serve, wait_for


async def test_serve_collects_from_configured_sources(aiohttp_server, tmp_path: Path) -> None:
    jetstream = FakeJetstream(after_replay="idle")
    js_server = await aiohttp_server(jetstream.app())
    reddit = FakeReddit()
    reddit_server = await aiohttp_server(reddit.app())
    x = FakeX()
    x_server = await aiohttp_server(x.app())
    feeds = FeedHost()
    feeds.put("/journal/feed/", rss_fixture("rss2.xml"))
    feeds_server = await aiohttp_server(rss_app(feeds))
    algolia = Algolia()
    algolia.load_captured()
    algolia_server = await aiohttp_server(algolia_app(algolia))
    masto = Instance(tags={"nimbus": mastodon_fixture("tag_timeline.json")},
                     notifications=mastodon_fixture("notifications.json"))
    masto_server = await aiohttp_server(mastodon_app(masto))
    forum = Forum()
    forum.load_captured()
    forum_server = await aiohttp_server(discourse_app(forum))
    env = {"TEST_REDDIT_ID": reddit.client_id, "TEST_REDDIT_SECRET": reddit.client_secret,
           "TEST_X_BEARER": X_BEARER}
    port = free_port()
    config = tmp_path / "crmsphere.toml"
    config.write_text(f"""
[server]
port = {port}
[store]
url = "sqlite:///{tmp_path / 'db.sqlite'}"

[[sources]]
kind = "bluesky"
name = "bsky-nimbus"
interval = 2
keywords = ["nimbus"]
max_seconds = 0.5
base_url = "ws://127.0.0.1:{js_server.port}"

[[sources]]
kind = "reddit"
name = "reddit-nimbus"
interval = 60
subreddits = ["nimbuscloud"]
client_id_env = "TEST_REDDIT_ID"
client_secret_env = "TEST_REDDIT_SECRET"
base_url = "http://127.0.0.1:{reddit_server.port}"

[[sources]]
kind = "x"
name = "x-nimbus"
interval = 60
queries = ["nimbus"]
bearer_token_env = "TEST_X_BEARER"
base_url = "http://127.0.0.1:{x_server.port}"

[[sources]]
kind = "rss"
name = "blogs"
interval = 60
feeds = ["http://127.0.0.1:{feeds_server.port}/journal/feed/"]

[[sources]]
kind = "hackernews"
name = "hn"
interval = 60
queries = ["nimbus"]
base_url = "http://127.0.0.1:{algolia_server.port}"

[[sources]]
kind = "mastodon"
name = "masto"
interval = 60
instance = "https://mastodon.example"
hashtags = ["nimbus"]
base_url = "http://127.0.0.1:{masto_server.port}"

[[sources]]
kind = "discourse"
name = "community-forum"
interval = 60
base_url = "http://127.0.0.1:{forum_server.port}"
""")
    log = tmp_path / "serve.log"
    proc = start_serve(config, tmp_path, log, env={"CRMSPHERE_ADMIN_TOKEN": "",
                                                    "CRMSPHERE_API__TRUST_LOOPBACK": "true", **env})
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def sources_ok():
                try:
                    async with http.get(base + "/api/sources") as resp:
                        body = await resp.json()
                except aiohttp.ClientError:
                    return None
                states = {s["key"]: s for s in body["items"]}
                done = all(s["state"] == "ok" and s["total_items"] > 0 for s in states.values())
                return states if done else None

            states = await wait_for(sources_ok)
            assert states["bsky-nimbus"]["last_success_at"]
            async with http.get(base + "/api/mentions", params={"source": "bluesky"}) as resp:
                mentions = (await resp.json())["items"]
            assert mentions and all("nimbus" in m["text"].lower() for m in mentions)
            assert len({m["external_id"] for m in mentions}) == len(mentions)
            count = len(mentions)
            for source in ("reddit", "x", "rss", "hackernews", "mastodon", "discourse"):
                async with http.get(base + "/api/mentions", params={"source": source}) as resp:
                    assert (await resp.json())["items"], f"nothing collected from {source}"
            # Later runs resume from the stored cursor: the replay adds nothing twice.  The
            # server is another process: wait until one more scheduled run of the source ended
            # (its health was saved again, after a new connection), not for a guessed 3 s.
            first_run = states["bsky-nimbus"]["last_run_at"]

            async def another_run_ended():
                async with http.get(base + "/api/sources") as resp:
                    bsky = {s["key"]: s for s in (await resp.json())["items"]}["bsky-nimbus"]
                return len(jetstream.connections) >= 2 and bsky["last_run_at"] != first_run

            await wait_for(another_run_ended)
            async with http.get(base + "/api/mentions", params={"source": "bluesky"}) as resp:
                assert len((await resp.json())["items"]) == count
            assert len(jetstream.connections) >= 2
            assert "cursor" in jetstream.connections[-1]
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


async def test_two_serve_processes_share_one_scheduler_lease(aiohttp_server, tmp_path: Path) -> None:
    jetstream = FakeJetstream(after_replay="close")
    js_server = await aiohttp_server(jetstream.app())
    ports = [free_port(), free_port()]
    procs = []
    for port in ports:
        config = tmp_path / f"c{port}.toml"
        config.write_text(f"""
[server]
port = {port}
[store]
url = "sqlite:///{tmp_path / 'db.sqlite'}"
[scheduler]
lease_ttl = 3
[[sources]]
kind = "bluesky"
name = "bsky"
interval = 1
keywords = ["nimbus"]
max_seconds = 0.3
base_url = "ws://127.0.0.1:{js_server.port}"
""")
        procs.append(start_serve(config, tmp_path, tmp_path / f"serve{port}.log", env={
            "CRMSPHERE_ADMIN_TOKEN": "", "CRMSPHERE_API__TRUST_LOOPBACK": "true"}))
    try:
        async with aiohttp.ClientSession() as http:
            async def leaders():
                flags = []
                for port in ports:
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/api/sources") as resp:
                            flags.append((await resp.json())["scheduler"]["leader"])
                    except aiohttp.ClientError:
                        flags.append(None)
                return flags if None not in flags and any(flags) else None

            try:
                flags = await wait_for(leaders, timeout=120)
            except AssertionError:
                logs = {p: (tmp_path / f"serve{p}.log").read_text()[-2000:] for p in ports}
                raise AssertionError(f"no leader; server logs: {logs}") from None
            assert sorted(flags) == [False, True], "exactly one process holds the lease"
            leader = flags.index(True)
            # The leader polls (every second): wait for two of its runs, however slow the machine.
            async def polled_twice():
                return len(jetstream.connections) >= 2

            await wait_for(polled_twice, timeout=60)
            procs[leader].kill()  # no clean release: the lease must expire
            procs[leader].wait()
            other = ports[1 - leader]

            async def took_over():
                async with http.get(f"http://127.0.0.1:{other}/api/sources") as resp:
                    return (await resp.json())["scheduler"]["leader"]

            await wait_for(took_over, timeout=40)
            before = len(jetstream.connections)

            async def polled():  # a run the killed leader was in holds its source for one lease_ttl
                return len(jetstream.connections) > before

            await wait_for(polled, timeout=20)  # "the standby polls after taking over"
    finally:
        for proc in procs:
            stop_serve(proc)
