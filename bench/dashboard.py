"""Dashboard speed on a large SQLite store: each aggregation, the filtered stream's first
page, and live fan-out (ingest rate with 0 vs N connected Server-Sent Events clients).

Run: python bench/dashboard.py [--mentions 1000000] [--days 365] [--clients 200] [--rounds 3]
     [--db FILE [--reuse]] [--skip-aggregations] [--read-back]

The store is created and migrated by the real code, then filled with bulk SQL through its own
schema (one ``executemany`` transaction per table; the full-text index is filled by the
schema's trigger).  Each aggregation is timed through the ``Store`` interface, median of
``--repeat`` runs after one warm-up.  Fan-out: a real ``create_app`` server on 127.0.0.1,
``--clients`` aiohttp clients reading ``/api/stream/mentions``, and ingest of ``--ingest``
posts in batches through ``store_posts`` with the live hub's hook, timed with 0 and with
``--clients`` clients.  The server (ingest, hub and streams share its event loop) runs in this
process: its CPU time (``time.process_time``, every thread, until ``DRAIN`` s after the last
post) is the cost figure; the clients run in a second process on the same cores, so the
wall-clock rate also counts them (they read as cheaply as they can: one inflates and counts
events, the others only count bytes).  The hub publishes what the recorded events name: the
mentions this process handed over from memory, the others read back in one range read.
``--read-back`` also measures, in the same run, the hub reading every mention back with each
page of events a batch of its own (as before the hand-over).  Targets: aggregations < 100 ms,
first page < 50 ms, ingest slowed by at most 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nlp.signals  # noqa: F401,E402  (registers the NLP signals the store filters and counts, as the crmsphere command does)
from domain import Author, MentionQuery, RawPost
from storage import open_store
from storage.sqlite.db import to_db_time

#: Seconds the fan-out's CPU time runs on after the last ingested post (see ``fan_out``).
DRAIN = 1.5
SOURCES = ("reddit", "x", "mastodon", "bluesky", "hackernews", "rss", "discourse")
TOPICS = ("billing", "mobile", "performance", "support", "login", "export", "api", "pricing",
          "onboarding", "security", "integrations", "reporting")
WORDS = ["the", "app", "is", "slow", "today", "love", "it", "dark", "mode", "please", "export", "csv", "invoices", "broken", "again", "thanks", "support", "login", "fails", "sso", "audit", "webhook", "api", "docs", "mobile", "android", "ios", "pricing", "too", "high", "great", "update", "crash", "when", "i", "open", "settings"]
BRANDS = {"Nimbus": ("Nimbus",), "Rival CRM": ("Rival CRM", "rivalcrm"), "Orbit": ("Orbit",)}
LABELS = ("negative", "neutral", "positive")
INTENTS = ("complaint", "question", "praise", "idea", "other")


def generate(path: Path, n: int, days: int, seed: int = 7) -> float:
    """Fill the migrated store at ``path`` with ``n`` mentions over the last ``days`` days."""
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=days)
    span = days * 86400
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    began = time.perf_counter()
    customers = [(f"cus_{i:05d}", f"Customer {i}", "company", "2026-01-01T00:00:00.000000Z")
                 for i in range(2000)]
    authors = [f"user{i}" for i in range(50_000)]
    ingested = to_db_time(now)
    # Times in order, so ids follow time as they do when a live feed stores them.
    offsets = sorted(rnd.random() * span for _ in range(n))

    def mentions():
        for i, off in enumerate(offsets, 1):
            words = rnd.choices(WORDS, k=12)
            if rnd.random() < 0.2:
                words.insert(rnd.randrange(12), rnd.choice(("Nimbus", "Rival CRM", "rivalcrm", "Orbit")))
            score = rnd.uniform(-1, 1)
            label = LABELS[0] if score < -0.05 else LABELS[2] if score > 0.05 else LABELS[1]
            topics = rnd.sample(TOPICS, rnd.choice((0, 1, 1, 1, 2)))
            yield (i, rnd.choice(SOURCES), f"e{i}", rnd.choice(authors), None, " ".join(words),
                   to_db_time(start + timedelta(seconds=off)), None, None, ingested, None, None,
                   "en", json.dumps({"likes": rnd.randrange(50)}), json.dumps(topics), round(score, 3),
                   label, rnd.choice(INTENTS), "en", "[]", f"e{i}")

    with conn:
        conn.executemany("INSERT INTO customers (id, name, kind, updated_at) VALUES (?, ?, ?, ?)",
                         customers)
        conn.executemany(
            "INSERT INTO mentions (id, source, external_id, author_handle, author_name, text, "
            "created_at, url, parent_id, ingested_at, author_platform_id, thread_id, language, "
            "engagement, topics, sentiment, sentiment_label, intent, detected_language, flags, "
            "identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            mentions())  # the identity of a post whose id is global is its id (the ids are unique)
    with conn:
        conn.execute("INSERT INTO mention_topics (topic, mention_id) "
                     "SELECT j.value, m.id FROM mentions m, json_each(m.topics) j")
        conn.execute("INSERT INTO mention_links (mention_id, customer_id, confidence, rule, evidence) "
                     "SELECT id, printf('cus_%05d', abs(random()) % 2000), 0.9, 'handle', 'bench' "
                     "FROM mentions WHERE id % 10 = 0")
        # Staff acted on one mention in five, 5 minutes to 2 days after it was posted.
        conn.execute(
            "INSERT INTO mention_triage (mention_id, status, updated_at, updated_by, first_action_at) "
            "SELECT id, CASE WHEN id % 3 = 0 THEN 'closed' ELSE 'pending' END, created_at, 'bench', "
            "strftime('%Y-%m-%dT%H:%M:%S.000000Z', created_at, '+' || (300 + abs(random()) % 172800) || ' seconds') "
            "FROM mentions WHERE id % 5 = 0")
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - began


async def timed(fn: Callable[[], Awaitable[object]], repeat: int) -> float:
    """Median milliseconds of ``fn`` over ``repeat`` runs after one warm-up."""
    await fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


async def aggregations(url: str, repeat: int) -> list[tuple[str, float, float]]:
    """(name, median ms, target ms) for each dashboard read."""
    store = await open_store(url)
    today = datetime.now(UTC).date()
    until = datetime.combine(today + timedelta(days=1), dtime(), UTC)
    since = until - timedelta(days=30)
    base = since - timedelta(days=7)  # the baseline window before the 30 days shown
    checks = [
        ("volume by day x source, 30 + 7 days", lambda: store.volume_by_day(base, until), 100),
        ("volume by day x topic, 30 + 7 days", lambda: store.topic_volume_by_day(base, until), 100),
        ("topic share, 30 days", lambda: store.topic_counts(since, until), 100),
        ("sentiment trend, 30 days", lambda: store.sentiment_by_day(since, until), 100),
        ("top authors, 30 days", lambda: store.top_authors(since, until, 10), 100),
        ("share of voice (3 brands), 30 days", lambda: store.count_naming(since, until, BRANDS), 100),
        ("first-response time, 30 days", lambda: store.first_responses(since, until), 100),
        ("spike volumes per topic, 8 x 24 h", lambda: store.subject_volumes("topic", datetime.now(UTC), 8, pending_links=False), 100),
        ("spike volumes per customer, 8 x 24 h", lambda: store.subject_volumes("customer", datetime.now(UTC), 8, pending_links=False), 100),
        ("stream first page, no filter", lambda: store.list_mentions(MentionQuery(limit=50)), 50),
        ("stream first page, topic + sentiment", lambda: store.list_mentions(
            MentionQuery(topic="billing", sentiment="negative", limit=50)), 50),
        ("stream first page, source + text", lambda: store.list_mentions(
            MentionQuery(source="x", text="invoices broken", limit=50)), 50),
        ("stream first page, status open", lambda: store.list_triaged_mentions(
            MentionQuery(limit=50), "open", None, None), 50),
        ("facet counts, last 7 days", lambda: store.facet_counts(
            MentionQuery(since=until - timedelta(days=7)), None, None, None), 100),
    ]
    out = []
    try:
        for name, fn, target in checks:
            out.append((name, await timed(fn, repeat), target))
    finally:
        await store.close()
    return out


async def fan_out(url: str, clients: int, posts: int, batch: int, rounds: int = 1,
                  read_back: bool = False) -> list[tuple[str, tuple[float, float]]]:
    """Ingest rate (posts/s) and this process's CPU per post, with 0 and with ``clients``
    open event streams (this process's CPU includes serving the streams, not reading them);
    medians over ``rounds`` rounds of each, alternating, since other work on the machine
    moves single runs by tens of percent.  ``read_back`` adds a run per round of the hub as
    it was before it took this process's mentions from memory: every mention read back
    through its event, each page of events a batch of its own."""
    from aiohttp import web

    from api.app import create_app
    from api.keys import RUNTIME
    from config.settings import load_settings
    from crmsphere.ingest import store_posts

    os.environ.pop("CRMSPHERE_ADMIN_TOKEN", None)  # loopback is the operator, as under make run
    settings = load_settings(environ={}, overrides={"store.url": url, "scheduler.enabled": False,
                                                    "dashboard.spike_alerts": False,
                                                    "api.trust_loopback": True})
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rt = app[RUNTIME]
    hook = rt.sources.on_stored  # the wake-ups after a commit, as a source run does
    results = []
    counter = [0]
    run_id = f"{time.time_ns():x}"  # fresh external ids on a reused store

    async def ingest(hook=hook) -> tuple[float, float]:
        """(posts/s wall-clock, server CPU ms per post).

        The CPU time runs on for ``DRAIN`` seconds after the last post, with or without
        dashboards, so that it includes sending the last batches of events (the hub gathers
        up to a second of mentions per batch when many dashboards listen)."""
        began, cpu, t0 = time.perf_counter(), time.process_time(), os.times()
        for _start in range(0, posts, batch):
            items = []
            for _ in range(batch):
                counter[0] += 1
                items.append(RawPost("bench", f"live{run_id}-{counter[0]}", Author(f"u{counter[0] % 500}"),
                                     f"live post {counter[0]} the app is slow", datetime.now(UTC)))
            await store_posts(rt.store, rt.analyzer, "bench", items, None, hook)
        rate = posts / (time.perf_counter() - began)
        await asyncio.sleep(DRAIN)
        t1 = os.times()
        print(f"    ({posts} posts: user {t1.user - t0.user:.2f} s, system {t1.system - t0.system:.2f} s)")
        return rate, (time.process_time() - cpu) * 1000 / posts

    async def wake_only(mentions) -> None:
        rt.live.notify(len(mentions))  # nothing handed over: the hub reads every mention back

    alone: list[tuple[float, float]] = []
    watched: list[tuple[float, float]] = []
    watched_before: list[tuple[float, float]] = []
    variants = [(watched, hook, rt.live.max_batch)]
    if read_back:
        variants.append((watched_before, wake_only, rt.live.batch_size))
    try:
        await ingest()  # warm-up: NLP pipeline and caches
        for _ in range(rounds):
            alone.append(await ingest())
            for runs, variant_hook, max_batch in variants:
                rt.live.max_batch = max_batch
                await _watched_round(rt, port, clients, posts, runs, ingest, variant_hook)
                # A closed stream leaves the hub when a write to it fails: one post makes
                # every stream write, so the next run has no dashboards left.
                await store_posts(rt.store, rt.analyzer, "bench", [RawPost(
                    "bench", f"flush{run_id}-{len(alone)}-{len(runs)}", Author("u0"), "flush",
                    datetime.now(UTC))], None, hook)
                for _ in range(100):
                    if not rt.live.subscribers:
                        break
                    await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
        _remove_live_posts(url)
    for label, runs in (("0 SSE clients", alone), (f"{clients} SSE clients", watched),
                        (f"{clients} SSE clients, read back", watched_before)):
        if runs:
            results.append((label, (statistics.median(r for r, _ in runs),
                                    statistics.median(c for _, c in runs))))
    return results


async def _watched_round(rt, port: int, clients: int, posts: int, runs: list, ingest, hook) -> None:
    """One ingest with ``clients`` dashboards listening (in another process), appended to
    ``runs``."""
    # The dashboards run in another process, as browsers would: their reading must not
    # share this event loop with the ingest being measured.
    ctx = multiprocessing.get_context("spawn")
    ready, done, counted = ctx.Event(), ctx.Event(), ctx.Queue()
    after = await rt.store.latest_mention_id()
    proc = ctx.Process(target=_dashboards, args=(port, clients, after, ready, done, counted))
    proc.start()
    await asyncio.to_thread(ready.wait, 60)
    runs.append(await ingest(hook))
    await asyncio.sleep(0.2)  # the last events reached every client while draining
    done.set()
    events, fewest, most, slowest = await asyncio.to_thread(counted.get, True, 30)
    proc.join(10)
    print(f"  events received by the first dashboard: {events:,} (expected {posts:,}), "
          f"the latest {slowest:.2f} s after its post; deflated bytes per dashboard "
          f"{fewest:,}..{most:,} (the same for all expected)")


def _remove_live_posts(url: str) -> None:
    """Delete the posts the fan-out stored, so that a reused store stays as generated (they
    would be the newest mentions, ahead of every generated one in the stream's first page)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA foreign_keys = ON")
    with conn:
        conn.execute("DELETE FROM mentions WHERE source = 'bench'")
    conn.close()


def _dashboards(port: int, clients: int, after: int, ready, done, counted) -> None:
    """``clients`` open event streams (in their own process) until ``done``; puts (events the
    first stream carried, fewest and most bytes any stream carried, the longest time in
    seconds from a post's ``created_at`` (set just before ingest) to its event's arrival).

    Only the first stream is inflated and its events counted; the others count the deflated
    bytes they receive (each stream gets the same bytes), so that the clients, which share the
    2 cores with the server, take as little CPU per event as they can.
    """
    import re
    import zlib

    import aiohttp

    created = re.compile(rb'"created_at":"([^"]+)"')

    async def run() -> tuple[int, int, int, float]:
        events = [0]
        slowest = [0.0]
        received = [0] * clients
        opened = [0]

        async def listen(session: aiohttp.ClientSession, n: int) -> None:
            async with session.get(f"http://127.0.0.1:{port}/api/stream/mentions?after={after}",
                                   headers={"Accept-Encoding": "deflate"}) as resp:
                inflate = zlib.decompressobj() if n == 0 else None
                first = await resp.content.readany()  # the "ready" event: the stream is open
                if inflate is not None:
                    inflate.decompress(first)
                opened[0] += 1
                if opened[0] == clients:
                    ready.set()
                async for chunk in resp.content.iter_any():
                    received[n] += len(chunk)
                    if inflate is not None:
                        text = inflate.decompress(chunk)
                        events[0] += text.count(b"event: mention")
                        now = datetime.now(UTC)
                        for stamp in created.findall(text):
                            age = (now - datetime.fromisoformat(stamp.decode())).total_seconds()
                            slowest[0] = max(slowest[0], age)

        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         auto_decompress=False) as session:
            tasks = [asyncio.create_task(listen(session, n)) for n in range(clients)]
            if not clients:
                ready.set()
            await asyncio.to_thread(done.wait)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return events[0], min(received, default=0), max(received, default=0), slowest[0]

    counted.put(asyncio.run(run()))


def main() -> None:
    """Generate (unless ``--reuse``), time the aggregations, then measure fan-out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--ingest", type=int, default=2000, help="posts ingested per fan-out run")
    parser.add_argument("--batch", type=int, default=50, help="posts per ingest transaction")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fan-out rounds (ingest alone, then with the dashboards); medians are shown")
    parser.add_argument("--read-back", action="store_true",
                        help="also measure the hub reading every mention back (the path for "
                             "other processes' mentions, and this process's before the hand-over)")
    parser.add_argument("--skip-aggregations", action="store_true", help="measure fan-out only")
    parser.add_argument("--db", help="keep the store in this file (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="use --db as it is (no generation)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.db"
        url = f"sqlite:///{path.resolve()}"
        if not args.reuse:
            if path.exists():
                raise SystemExit(f"{path} exists: remove it or pass --reuse")
            asyncio.run(_migrate(url))
            seconds = generate(path, args.mentions, args.days)
            print(f"generated {args.mentions:,} mentions over {args.days} days in {seconds:.1f} s")
        if not args.skip_aggregations:
            print("aggregation                                 median ms   target")
            for name, ms, target in asyncio.run(aggregations(url, args.repeat)):
                flag = "ok" if ms < target else "SLOW"
                print(f"  {name:<42}{ms:>9.1f}   < {target} {flag}")
        if args.clients >= 0:
            rates = asyncio.run(fan_out(url, args.clients, args.ingest, args.batch, args.rounds,
                                        args.read_back))
            for label, (rate, cpu) in rates:
                print(f"  ingest with {label}: {rate:,.0f} posts/s, "
                      f"server CPU {cpu:.3f} ms/post (median of {args.rounds})")
            (_, (r0, c0)), *watched = rates
            for label, (r1, c1) in watched:
                print(f"  with {label}: ingest rate {(1 - r1 / r0) * 100:+.1f} % slower, "
                      f"server CPU per post {(c1 / c0 - 1) * 100:+.1f} % (target: <= 10 % slower)")


async def _migrate(url: str) -> None:
    store = await open_store(url)
    await store.close()


if __name__ == "__main__":
    main()
