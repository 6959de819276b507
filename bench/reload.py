"""Benchmark of gazetteer updates (not a test): one confirm or reject vs. a full rebuild.

    .venv/bin/python bench/reload.py [--customers 100000] [--reloads 5] [--lessons 20]

With a deterministic registry (the one of ``bench/nlp.py``) in one analyser thread, as
the server runs with ``[nlp] workers = 0``, prints in the same run:
- a full reload (``Analyzer.start``: the pipeline built again, the old one freed),
- a confirmation that teaches one customer an alias or a handle (``Analyzer.learn``),
- a rejection (the list of rejections replaced, ``Analyzer.learn``),
medians of CPU time (wall clock beside it), and the RSS after each full reload, which
stays flat now that the replaced pipeline is freed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and would hide the ``nlp`` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from domain import Identity, LinkNegative  # noqa: E402
from nlp.runner import Analyzer  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_nlp", _HERE / "nlp.py")
assert _spec is not None and _spec.loader is not None
bench_nlp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_nlp)


def rss_mb() -> float:
    """Resident set size of this process now."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def timed(step) -> tuple[float, float]:
    """CPU and wall-clock seconds of awaiting ``step()`` (CPU: this process, all threads)."""
    cpu, wall = time.process_time(), time.perf_counter()
    await step()
    return time.process_time() - cpu, time.perf_counter() - wall


def line(label: str, runs: list[tuple[float, float]]) -> str:
    cpu = statistics.median(r[0] for r in runs) * 1000
    wall = statistics.median(r[1] for r in runs) * 1000
    return f"{label:34} {cpu:10,.2f} ms CPU  ({wall:,.2f} ms wall clock, median of {len(runs)})"


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(12)
    customers = bench_nlp.make_customers(args.customers, rng)
    analyzer = Analyzer(workers=0)
    await analyzer.start(customers)
    full, memory = [], []
    for _ in range(args.reloads):
        full.append(await timed(lambda: analyzer.start(customers)))
        memory.append(rss_mb())
    confirms, rejects = [], []
    negatives: list[LinkNegative] = []
    for n in range(args.lessons):
        c = customers[rng.randrange(len(customers))]
        taught = (replace(c, aliases=(*c.aliases, f"{bench_nlp.word(rng, 4).title()} {n}")) if n % 2 else
                  replace(c, identities=(*c.identities, Identity("bluesky", f"learned_{n}.bsky.social"))))
        confirms.append(await timed(lambda taught=taught: analyzer.learn([taught])))
        negatives.append(LinkNegative(c.id, "x", f"author_{n}", c.name.split()[0].lower()))
        rejects.append(await timed(lambda: analyzer.learn([], list(negatives))))
    await analyzer.close()
    print(f"registry: {args.customers:,} customers; builds: {analyzer.builds} "
          f"(the {args.lessons} confirmations and {args.lessons} rejections built nothing)")
    print(line("full reload (Analyzer.start)", full))
    print(line("one confirm, alias or handle", confirms))
    print(line("one reject", rejects))
    ratio = statistics.median(r[0] for r in full) / statistics.median(r[0] for r in confirms)
    print(f"a confirmation costs 1/{ratio:,.0f} of a full reload")
    print("RSS after each full reload: " + ", ".join(f"{m:,.0f}" for m in memory) + " MB")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--lessons", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
