"""Collector throughput: items/s from a fake server through normalise -> ingest (NLP) -> SQLite.

Run: python bench/collectors.py [--posts N]
The fake Jetstream on 127.0.0.1 replays N generated post events over a WebSocket; the
Bluesky collector reads them, the ingest stage de-duplicates and analyses posts (customers, topics, sentiment, intent) with the
demo registry, and the SQLite store writes each batch with its cursor in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors import create_collector  # noqa: E402
from collectors.customers_csv import read_customers_csv  # noqa: E402
from config.settings import DEMO_DIR  # noqa: E402
from crmsphere.ingest import run_collector  # noqa: E402
from nlp.runner import Analyzer  # noqa: E402
from storage import open_store  # noqa: E402
from tests.collectors.fake_bluesky import FakeJetstream  # noqa: E402

WORDS = ("nimbus invoice billing export slow app login dark mode love hate broken please add "
         "feature api webhook mobile crash support team great update").split()


def events(n: int, seed: int = 7) -> list[str]:
    """``n`` post-create events of ~20 words that all mention the keyword."""
    rnd = random.Random(seed)
    frames = []
    t0 = 1_793_534_400_000_000
    for i in range(n):
        text = "nimbus " + " ".join(rnd.choice(WORDS) for _ in range(19))
        frames.append(json.dumps({
            "did": f"did:plc:bench{i % 5000:06d}", "time_us": t0 + i * 1000, "kind": "commit",
            "commit": {"rev": f"r{i}", "operation": "create", "collection": "app.bsky.feed.post",
                       "rkey": f"3bench{i:08d}", "cid": f"bafy{i}",
                       "record": {"$type": "app.bsky.feed.post", "text": text, "langs": ["en"],
                                  "createdAt": "2026-11-01T12:00:00.000Z"}}}))
    return frames


async def main(posts: int) -> None:
    fake = FakeJetstream(frames=events(posts), after_replay="close")
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    customers, _ = read_customers_csv(DEMO_DIR / "customers.csv")
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_store(f"sqlite:///{tmp}/bench.db")
        await store.upsert_customers(customers)
        analyzer = Analyzer(workers=0, batch_size=256)
        await analyzer.start(customers)
        async with aiohttp.ClientSession() as http:
            collector = create_collector("bluesky", "bench", {
                "keywords": ["nimbus"], "base_url": f"ws://127.0.0.1:{port}", "max_items": posts + 1,
                "max_seconds": 600, "batch_size": 500}, http)
            start = time.perf_counter()
            report = await run_collector(collector, store, analyzer)
            elapsed = time.perf_counter() - start
        stored = (await store.counts())["mentions"]
        await analyzer.close()
        await store.close()
    await runner.cleanup()
    print(f"collector bench: {posts} events -> {report.accepted} stored ({stored} rows) "
          f"in {elapsed:.2f} s = {report.accepted / elapsed:,.0f} items/s "
          f"(WebSocket -> normalise -> NLP (customers, topics, sentiment, intent, language) -> SQLite, 1 process)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=50_000)
    asyncio.run(main(parser.parse_args().posts))
