"""Benchmark of the customer search the pickers type into (not a test): 100,000 customers.

    .venv/bin/python bench/customer_search.py [--customers 100000] [--queries 200] [--limit 20]

Seeds a temporary SQLite store with the Faker registry of ``bench/linking_eval.py`` (people
given an e-mail address, companies their handle) and times, for 1-, 3- and 8-letter prefixes
of real names from it, in the same run and on the same reader thread:
- ``by id``: the baseline, a customer read by its primary key (``get_customer``);
- ``LIKE``: the search as it was before the word index, ``lower(name) LIKE '%q%'`` or the
  company, ordered by name (a full scan of the registry per keystroke), run and decoded the
  way the store ran it;
- ``words``: ``list_customers(q)`` now (index range reads, ranked);
and a last row ``common``: words thousands of customers share that begin no name ("gmail",
"inc"), the worst case of the word index (every match read and sorted by name).
Printed: median microseconds per query and each one's ratio to the baseline (the machine is
shared: compare ratios, not figures from another run).  Needs the ``bench`` extra (Faker).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from domain import Customer  # noqa: E402
from domain.customer_search import fold  # noqa: E402
from storage import open_store  # noqa: E402
from storage.sqlite.customers import _customers_from_rows  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_linking", _HERE / "linking_eval.py")
assert _spec is not None and _spec.loader is not None
bench_linking = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_linking)

#: Words shared by thousands of customers that begin no name (mail providers, company forms).
COMMON_WORDS = ("gmail", "outlook", "inc", "llc")
MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "web.de", "orange.fr")


def registry(n: int, seed: int) -> list[Customer]:
    """The linking bench's registry, each person with an address made from their name."""
    customers, _ = bench_linking.make_registry(n, seed)
    rng = random.Random(seed)
    out = []
    for c in customers:
        if c.kind == "person":
            local = ".".join("".join(ch for ch in fold(part) if ch.isalnum()) for part in c.name.split()[:2])
            c = replace(c, emails=(f"{local}{rng.randrange(100)}@{rng.choice(MAIL_DOMAINS)}",))
        out.append(c)
    return out


def old_like(conn: sqlite3.Connection, text: str, limit: int) -> list[Customer]:
    """The search before the word index, as the store ran it (same SQL, same decoding)."""
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        "SELECT * FROM customers WHERE (lower(name) LIKE ? ESCAPE '\\' OR "
        "lower(coalesce(company, '')) LIKE ? ESCAPE '\\') ORDER BY name COLLATE NOCASE, id LIMIT ?",
        (pattern, pattern, limit + 1)).fetchall()
    return _customers_from_rows(conn, rows)


async def median_us(calls: list[Callable[[], Awaitable[object]]]) -> float:
    """The median wall-clock time of the calls, in microseconds (each call run once, in turn)."""
    times = []
    for call in calls:
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


async def run(args: argparse.Namespace) -> None:
    customers = registry(args.customers, args.seed)
    rng = random.Random(args.seed + 1)
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(f"sqlite:///{folder}/bench.db")
        try:
            start = time.perf_counter()
            for at in range(0, len(customers), 5000):
                await store.upsert_customers(customers[at:at + 5000])
            print(f"{len(customers):,} customers stored in {time.perf_counter() - start:.1f} s "
                  f"(words written with them)")
            reader = store._reader  # type: ignore[attr-defined]  # the store's own read thread
            ids = [c.id for c in customers]
            print(f"{'prefix':>8} {'by id µs':>9} {'LIKE µs':>9} {'words µs':>9} "
                  f"{'LIKE/id':>8} {'words/id':>9} {'LIKE/words':>11}")
            for size in (1, 3, 8, 0):
                names = [c.name for c in rng.sample(customers, args.queries * 3)]
                prefixes = [n[:size] for n in names if len(n.replace(" ", "")) >= size][:args.queries]
                if size == 0:
                    # The worst case of the word index: words thousands of customers share that
                    # begin no name, so every match is read and sorted by name.
                    prefixes = [COMMON_WORDS[i % len(COMMON_WORDS)] for i in range(args.queries)]
                for _ in range(2):  # the second round is measured: caches warm alike
                    by_id = await median_us([
                        (lambda cid=cid: store.get_customer(cid)) for cid in rng.sample(ids, len(prefixes))])
                    like = await median_us([
                        (lambda p=p: reader.run(lambda conn, p=p: old_like(conn, p, args.limit)))
                        for p in prefixes])
                    words = await median_us([
                        (lambda p=p: store.list_customers(p, args.limit)) for p in prefixes])
                print(f"{size or 'common':>8} {by_id:>9.0f} {like:>9.0f} {words:>9.0f} "
                      f"{like / by_id:>8.1f} {words / by_id:>9.1f} {like / words:>11.1f}")
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
