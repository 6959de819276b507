"""Forum speed: ``GET /api/ideas?sort=top`` and ``POST /api/ideas/{id}/vote`` on one
``crmsphere serve`` worker, next to a bare aiohttp handler reading the same 20 rows (and
a bare vote handler: what the machine does for a write with no application around it).

Run: python bench/forum.py [--ideas 10000] [--votes 1000000] [--seconds 10] [--connections 32]
                           [--before REF]

The store is migrated by the real code, then seeded with bulk SQL (secondary indexes
dropped while loading and rebuilt afterwards).  Both servers run as subprocesses on
127.0.0.1; the load generator (bench/loadgen.py, closed-loop like ``wrk``) is in this
process: ``--connections`` keep-alive connections each sending one request after another
for ``--seconds`` per phase, the phases taking turns in ``--rounds`` slices.  Vote requests carry API tokens of
``--voters`` customers chosen at random, so almost every one writes a new vote.
``--before REF`` also serves git revision REF (two more workers on the same file, one with the
cache off) and runs its vote and cache-off top phases in the same turns: before and after
measured in one run, each next to its bare handler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import RequestMaker, request_bytes, run_load  # noqa: E402
from community.accounts import TOKEN_PREFIX, secret_hash  # noqa: E402
from storage import open_store  # noqa: E402

SEGMENTS = ("enterprise", "mid-market", "smb", "startup", "consumer")
WORDS = "dark mode export invoices csv api webhook mobile login sso audit log billing slack".split()
BARE_TOP_NAME = "bare aiohttp + sqlite3, top 20"
TOP_NAME = "GET /api/ideas?sort=top"
UNCACHED_TOP_NAME = "GET /api/ideas?sort=top, cache off"
BARE_VOTE_NAME = "bare aiohttp + sqlite3, vote"
VOTE_NAME = "POST /api/ideas/{id}/vote"
#: notify.vote_thresholds of config/defaults.toml (the servers run with the defaults)
VOTE_THRESHOLDS = (10, 50, 100, 500)
#: how long a server may take to start listening
START_SECONDS = 180
BARE_TOP = ("SELECT * FROM ideas WHERE merged_into IS NULL AND hidden = 0 "
            "ORDER BY vote_count DESC, id DESC LIMIT 20")


# -- seeding ---------------------------------------------------------------------------
def seed(db: Path, ideas: int, votes: int, voters: int, seed_value: int = 11) -> list[str]:
    """Fill ``db`` (already migrated) with customers, voter accounts with API tokens,
    ideas and votes; returns the voters' plain API tokens."""
    rnd = random.Random(seed_value)
    per_idea = _vote_counts(rnd, ideas, votes)
    customers = voters + max(per_idea, default=0) + 1
    now = "2026-11-01T12:00:00.000000Z"  # the store's to_db_time format
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # seeding only; the server uses its own settings
    conn.execute("BEGIN")
    # Secondary indexes cost most while loading: drop, load, rebuild.
    dropped = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('votes', 'ideas', 'customers')").fetchall()
    for name, _ in dropped:
        conn.execute(f'DROP INDEX "{name}"')
    conn.executemany(
        "INSERT INTO customers (id, name, kind, company, segment, annual_revenue, updated_at) "
        "VALUES (?, ?, 'company', ?, ?, ?, ?)",
        ((f"cus_{c:06d}", f"Customer {c}", f"Company {c}", SEGMENTS[c % len(SEGMENTS)],
          rnd.choice((50_000, 500_000, 5_000_000, 50_000_000)), now) for c in range(customers)))
    conn.executemany(
        "INSERT INTO accounts (id, email, name, role, customer_id, email_verified, created_at) "
        "VALUES (?, ?, ?, 'customer', ?, 1, ?)",
        ((a + 1, f"voter{a}@bench.example", f"Voter {a}", f"cus_{a:06d}", now) for a in range(voters)))
    tokens = [f"{TOKEN_PREFIX}bench-{a:06d}-{rnd.getrandbits(128):032x}" for a in range(voters)]
    conn.executemany(
        "INSERT INTO api_tokens (account_id, name, token_hash, role, created_at) "
        "VALUES (?, 'bench', ?, 'customer', ?)",
        ((a + 1, secret_hash(t), now) for a, t in enumerate(tokens)))
    conn.executemany(
        "INSERT INTO ideas (id, title, body, author_id, status, vote_count, impact, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
        ((i + 1, f"Idea {i}: " + " ".join(rnd.sample(WORDS, 4)), "Why: " + " ".join(rnd.sample(WORDS, 8)),
          (i % voters) + 1, n, float(n), now, now) for i, n in enumerate(per_idea)))
    # Voters of the bench's own requests start at customer 0: seeded votes use the others,
    # so a benchmark vote is (almost always) a new row, as a real vote would be.
    conn.executemany(
        "INSERT INTO votes (idea_id, customer_id, created_at) VALUES (?, ?, ?)",
        ((i + 1, f"cus_{voters + (i * 7919 + j) % (customers - voters):06d}", now)
         for i, n in enumerate(per_idea) for j in range(n)))
    # The thresholds the seeded counts crossed were announced when those votes came in (as in a
    # forum whose votes came through it): a bench vote crosses one only as a real vote would.
    conn.executemany(
        "INSERT INTO idea_thresholds VALUES (?, ?, ?)",
        ((i + 1, f"votes:{t}", now) for i, n in enumerate(per_idea) for t in VOTE_THRESHOLDS if n >= t))
    for _, sql in dropped:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return tokens


def _vote_counts(rnd: random.Random, ideas: int, votes: int) -> list[int]:
    """Votes per idea summing to ``votes``, long-tailed like a real forum."""
    weights = [rnd.paretovariate(1.2) for _ in range(ideas)]
    total = sum(weights)
    counts = [int(votes * w / total) for w in weights]
    cap = max(1, votes // max(1, ideas) * 50)
    counts = [min(c, cap) for c in counts]
    short, i = votes - sum(counts), 0
    while short > 0 and ideas:
        room = cap - counts[i % ideas]
        add = min(room, short)
        counts[i % ideas] += add
        short -= add
        i += 1
    return counts


# -- the bare handler ------------------------------------------------------------------
def bare_server(db: str, port: int) -> None:
    """A bare aiohttp app: the top 20 ideas as JSON straight from one SQLite connection,
    and a bare vote (insert the vote, count it, one transaction, no checks at all) — what
    this machine does for a read and a write with nothing of an application around them."""
    conn = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    voters = iter(range(10**9))

    async def top(_: web.Request) -> web.Response:
        return web.json_response({"items": [dict(r) for r in conn.execute(BARE_TOP)]})

    async def vote(request: web.Request) -> web.Response:
        idea = int(request.match_info["id"])
        conn.execute("BEGIN IMMEDIATE")
        try:
            added = conn.execute("INSERT OR IGNORE INTO votes (idea_id, customer_id, created_at) "
                                 "VALUES (?, ?, ?)", (idea, f"bare_{next(voters)}",
                                                      "2026-11-01T12:00:00.000000Z")).rowcount
            conn.execute("UPDATE ideas SET vote_count = vote_count + ? WHERE id = ?", (added, idea))
            count = conn.execute("SELECT vote_count FROM ideas WHERE id = ?", (idea,)).fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return web.json_response({"idea_id": idea, "voted": True, "changed": bool(added),
                                  "vote_count": count}, status=201)

    app = web.Application()
    app.router.add_get("/top", top)
    app.router.add_post("/vote/{id}", vote)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- load ------------------------------------------------------------------------------
@dataclass
class Result:
    """Requests answered in a run and their latencies (seconds)."""

    name: str
    seconds: float
    latencies: list[float]
    errors: int
    statuses: dict[int, int]

    def add(self, other: Result) -> None:
        """Fold another slice of the same phase into this one."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n

    def rate(self) -> float:
        """Answered requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p99(self) -> float:
        """The 99th percentile latency in milliseconds (infinite: none answered)."""
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("inf")

    def line(self) -> str:
        """One printed row: req/s, p50 and p99 in milliseconds."""
        lat = sorted(self.latencies)
        if not lat:
            return f"{self.name:<34} no successful requests ({self.errors} errors, {self.statuses})"
        p50, p99 = lat[len(lat) // 2] * 1000, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (f"{self.name:<34} {len(lat) / self.seconds:9.0f} req/s   p50 {p50:7.2f} ms   "
                f"p99 {p99:7.2f} ms   errors {self.errors}   statuses {dict(sorted(self.statuses.items()))}")


async def load(name: str, port: int, make_request: RequestMaker, seconds: float,
               connections: int) -> Result:
    """``connections`` keep-alive connections each sending ``make_request()`` one after
    another for ``seconds`` (bench/loadgen.py)."""
    tally = await run_load("127.0.0.1", port, make_request, seconds, connections)
    return Result(name, tally.seconds, tally.latencies, tally.errors, tally.statuses)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], cwd: Path, port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    # Four servers start at once, each loading the NLP pipeline: on a loaded machine that
    # took over 30 s (the bench gave up on a server that was still starting).
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{cmd[:4]} exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{cmd[:4]} did not start listening on {port}")


def _revision_env(ref: str, folder: Path) -> dict[str, str]:
    """An environment whose imports come from git revision ``ref`` (extracted into ``folder``)."""
    folder.mkdir()
    archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True, cwd=ROOT).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return {**os.environ, "PYTHONPATH": str(folder)}


def _start_app(tmp: Path, db: Path, port: int, extra: str,
               env: dict[str, str] | None = None) -> subprocess.Popen:
    """``crmsphere serve`` (one worker) on ``db`` with ``extra`` config lines (``env``: of
    another revision)."""
    config = tmp / f"bench-{port}.toml"
    config.write_text(f'[server]\nhost = "127.0.0.1"\nport = {port}\n[store]\nurl = "sqlite:///{db}"\n'
                      f'[scheduler]\nenabled = false\n[logging]\nlevel = "WARNING"\n{extra}')
    return _start([sys.executable, "-m", "crmsphere", "--config", str(config), "serve"], tmp, port, env)


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def run(args: argparse.Namespace, tmp: Path) -> None:
    db = tmp / "forum.db"
    started = time.perf_counter()
    store = await open_store(f"sqlite:///{db}")  # the real migrations
    await store.close()
    tokens = seed(db, args.ideas, args.votes, args.voters)
    print(f"seeded {args.ideas:,} ideas, {args.votes:,} votes, {args.voters:,} voters with API tokens "
          f"in {time.perf_counter() - started:.1f} s ({db.stat().st_size / 1e6:.0f} MB)")

    app_port, uncached_port, bare_port = _free_port(), _free_port(), _free_port()
    app = _start_app(tmp, db, app_port, "")
    # The same app with the anonymous-answer cache off (api/public_cache.py): every
    # request reads the store, as a signed-in reader's always does.
    uncached = _start_app(tmp, db, uncached_port, "[forum]\npublic_cache_entries = 0\n")
    bare = _start([sys.executable, str(Path(__file__).resolve()), "--bare-server", str(db), str(bare_port)],
                  tmp, bare_port)
    before, before_port = None, _free_port()
    before_uncached, before_uncached_port = None, _free_port()
    if args.before:
        before_env = _revision_env(args.before, tmp / "before")
        before = _start_app(tmp, db, before_port, "", before_env)
        before_uncached = _start_app(tmp, db, before_uncached_port, "[forum]\npublic_cache_entries = 0\n",
                                     before_env)
    rnd = random.Random(5)
    base, bare_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    try:
        connector = aiohttp.TCPConnector(limit=args.connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            # Same rows from both: the bare handler's ids are the API's ids.
            async with session.get(f"{base}/api/ideas?sort=top&limit=20") as resp:
                answer = await resp.json()
                if resp.status != 200:
                    raise SystemExit(f"GET /api/ideas?sort=top answered {resp.status}: {answer}")
                api_ids = [i["id"] for i in answer["items"]]
            async with session.get(f"{bare_base}/top") as resp:
                bare_ids = [i["id"] for i in (await resp.json())["items"]]
            assert api_ids == bare_ids, (api_ids, bare_ids)
            host = "127.0.0.1"
            top_request = request_bytes("GET", "/api/ideas?sort=top", host)
            bare_request = request_bytes("GET", "/top", host)
            phases = [
                (BARE_TOP_NAME, bare_port, lambda: bare_request),
                (TOP_NAME, app_port, lambda: top_request),
                (UNCACHED_TOP_NAME, uncached_port, lambda: top_request),
                (BARE_VOTE_NAME, bare_port,
                 lambda: request_bytes("POST", f"/vote/{rnd.randint(1, args.ideas)}", host)),
                (VOTE_NAME, app_port,
                 lambda: request_bytes("POST", f"/api/ideas/{rnd.randint(1, args.ideas)}/vote", host,
                                       {"Authorization": f"Bearer {rnd.choice(tokens)}"})),
            ]
            if before is not None:
                phases.append((f"{VOTE_NAME} ({args.before})", before_port, phases[-1][2]))
                phases.append((f"{UNCACHED_TOP_NAME} ({args.before})", before_uncached_port,
                               lambda: top_request))
            # The phases take turns in --rounds short slices: on a shared machine the load of
            # other work drifts, and interleaving gives each phase the same share of it.
            results = [Result(name, 0.0, [], 0, {}) for name, _, _ in phases]
            for _ in range(args.rounds):
                for total, (name, port, make_request) in zip(results, phases):
                    total.add(await load(name, port, make_request, args.seconds / args.rounds,
                                         args.connections))
    finally:
        _stop(app)
        _stop(uncached)
        _stop(bare)
        for proc in (before, before_uncached):
            if proc is not None:
                _stop(proc)
    print(f"{args.connections} connections, {args.seconds:g} s each in {args.rounds} interleaved rounds, "
          "one server process each, 127.0.0.1")
    for r in results:
        print(r.line())
    by_name = {r.name: r for r in results}
    bare_rps = by_name[BARE_TOP_NAME].rate()
    print(f"top / bare = {by_name[TOP_NAME].rate() / bare_rps:.2f} (target >= 0.5; "
          f"cache off: {by_name[UNCACHED_TOP_NAME].rate() / bare_rps:.2f}); "
          f"vote p99 {by_name[VOTE_NAME].p99():.1f} ms (target < 20; bare vote "
          f"{by_name[BARE_VOTE_NAME].p99():.1f} ms)")
    for r in results:
        if r.name.startswith(f"{UNCACHED_TOP_NAME} ("):
            print(f"{r.name}: {r.rate() / bare_rps:.2f}x bare top req/s (target >= 0.6)")
    bare_vote = by_name[BARE_VOTE_NAME]
    for r in results:
        if r.name.startswith(VOTE_NAME):
            print(f"{r.name}: {r.rate() / bare_vote.rate():.2f}x bare vote req/s (target >= 0.5), "
                  f"p99 {r.p99() / bare_vote.p99():.2f}x bare vote p99 (target <= 2)")
    if args.json:
        print(json.dumps({r.name: r.line() for r in results}))


def main() -> None:
    """Parse options and run (or, internally, serve the bare handler)."""
    if len(sys.argv) == 4 and sys.argv[1] == "--bare-server":
        bare_server(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ideas", type=int, default=10_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=2_000, help="customers with API tokens that vote")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved slices of each phase")
    parser.add_argument("--json", action="store_true", help="also print the rows as one JSON line")
    parser.add_argument("--before", help="also serve this git revision and run its vote and cache-off top phases in the same turns")
    args = parser.parse_args()
    if (args.ideas < 20 or args.votes < 0 or args.voters < 1 or args.seconds <= 0 or args.connections < 1
            or args.rounds < 1):
        parser.error("need --ideas >= 20, --votes >= 0, --voters >= 1, --seconds > 0, --connections >= 1, "
                     "--rounds >= 1")
    with tempfile.TemporaryDirectory(prefix="crmsphere-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
