"""Benchmark of the NLP stage (not a test): posts/s per core, whole stage vs. bare tokenizer.

    .venv/bin/python bench/nlp.py [--posts 50000] [--customers 100000] [--phrases 500]
                                  [--cli-posts 20000] [--rounds 3] [--before REF]

A deterministic corpus (~25 words a post, handles, hashtags, URLs, emoji) is analysed
by one process after a warm-up on a separate chunk; prints posts/s of spaCy's bare
tokenizer and of tokenise + language + customers + topics + sentiment + intent (the two
take turns chunk by chunk), the ratio, and the peak memory (max RSS) of the process.

Then end to end (``--cli-posts``, 0 to skip): the same registry written as a customers CSV
and posts as JSON lines; ``crmsphere analyze --customers`` and the plain script
(``bench/plain/listener.py``: a pyahocorasick name automaton and VADER, nothing else) run
as processes in turns, each on one post (its start-up) and on all of them, in the same run.
Printed: CPU seconds of each (median of ``--rounds``), posts/s end to end (start-up
included) and after start-up, and each figure as a share of the plain script's.
``--before REF`` runs ``crmsphere analyze`` of git revision REF in the same turns.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide
# the ``nlp`` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import spacy  # noqa: E402

from domain import PLATFORMS as PLATFORM_COLUMNS  # noqa: E402
from domain import Author, Customer, Identity, RawPost, utcnow  # noqa: E402
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline  # noqa: E402
from nlp.topics import Topic  # noqa: E402

WORDS = ("the app is slow again after the update and support is not replying to my ticket "
         "love the new dark mode but export to csv drops custom fields invoices look great "
         "today our team moved every project over and the mobile widget keeps crashing when "
         "I open a board please add passkeys would be nice thanks").split()
SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "sil", "bar", "quin", "zel", "dor", "fen", "mar", "tis"]
EMOJI = ["😡", "🎉", "👍", "🙄", "😍", "🔥", ":)", ":("]
PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "hackernews")
CHUNK = 2_000


def word(rng: random.Random, parts: int = 3) -> str:
    """An invented name-like word."""
    return "".join(rng.choice(SYLLABLES) for _ in range(parts))


def make_customers(n: int, rng: random.Random) -> list[Customer]:
    """``n`` customers: companies with domains and aliases, people with handles and e-mails."""
    out = []
    for i in range(n):
        if i % 2:
            name = f"{word(rng).title()} {rng.choice(['Labs', 'Bakery', 'Media', 'Logistics', 'Studio'])}"
            out.append(Customer(f"c{i}", name, "company", domains=(f"{word(rng)}{i}.example",),
                                aliases=(word(rng, 4).title(),),
                                identities=(Identity(rng.choice(PLATFORMS), f"{word(rng)}{i}"),)))
        else:
            name = f"{word(rng, 2).title()} {word(rng).title()}"
            out.append(Customer(f"c{i}", name, "person", emails=(f"p{i}@{word(rng)}.example",),
                                identities=(Identity(rng.choice(PLATFORMS), f"{word(rng, 2)}_{i}"),)))
    return out


def make_topics(n: int, rng: random.Random) -> tuple[Topic, ...]:
    """Topics holding ``n`` phrases in all."""
    per = 25
    return tuple(Topic(f"t{k}", f"Topic {k}", "team",
                       tuple(f"{rng.choice(WORDS)} {word(rng, 2)}" if j % 3 else word(rng, 2)
                             for j in range(per)))
                 for k in range(max(1, n // per)))


def make_posts(n: int, customers: list[Customer], rng: random.Random) -> list[RawPost]:
    """Posts of ~25 words; about one in five names a customer, one in five @mentions a handle."""
    posts = []
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(20)]
        c = rng.choice(customers)
        if i % 5 == 0:
            words.insert(rng.randrange(len(words)), c.name)
        if i % 5 == 1 and c.identities:
            words.insert(0, "@" + c.identities[0].handle)
        words.append(f"#{rng.choice(WORDS)}")
        words.append(f"https://t.example/{word(rng, 2)}{i}")
        words.append(rng.choice(EMOJI))
        posts.append(RawPost(rng.choice(PLATFORMS), str(i), Author(f"user{i % 5000}"),
                             " ".join(words), utcnow()))
    return posts


def rate(n: int, seconds: float) -> str:
    """Posts per second, formatted."""
    return f"{n / seconds:,.0f}"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--phrases", type=int, default=500)
    parser.add_argument("--cli-posts", type=int, default=20_000,
                        help="posts for the end-to-end comparison (0: skip it)")
    parser.add_argument("--rounds", type=int, default=3, help="end-to-end runs of each command")
    parser.add_argument("--before", help="also run `crmsphere analyze` of this git revision")
    parser.add_argument("--only-cli", action="store_true", help="only the end-to-end comparison")
    args = parser.parse_args()
    if args.cli_posts:
        rng = random.Random(12)
        customers = make_customers(args.customers, rng)
        end_to_end(customers, make_posts(args.cli_posts, customers, rng), args)
    if args.only_cli or not args.posts:
        return  # no posts for the in-process figures (each is a rate over them)
    rng = random.Random(12)
    customers = make_customers(args.customers, rng)
    options = StageOptions(topics=make_topics(args.phrases, rng))
    warm = make_posts(2_000, customers, rng)
    posts = make_posts(args.posts, customers, rng)
    texts = [p.text for p in posts]

    start = time.perf_counter()
    nlp = build_pipeline(customers, options=options)
    built = time.perf_counter() - start
    analyse_posts(nlp, warm, options=options)
    bare = spacy.blank("en")
    list(bare.tokenizer.pipe(p.text for p in warm))

    # Stage and bare tokenizer take turns on the same chunks (in alternating order), so a
    # machine whose load changes during the run slows both alike and the ratio holds.
    # CPU time of this process (time.process_time): on a shared machine the wall clock also
    # counts the time other processes held the core. Wall-clock figures are printed too.
    stage = tokenizer = stage_wall = tokenizer_wall = 0.0
    analyses = []
    for n, at in enumerate(range(0, len(posts), CHUNK)):
        chunk = posts[at:at + CHUNK]
        for step in (("stage", "tokenizer") if n % 2 == 0 else ("tokenizer", "stage")):
            start, wall = time.process_time(), time.perf_counter()
            if step == "stage":
                analyses += analyse_posts(nlp, chunk, batch_size=1000, options=options)
                stage += time.process_time() - start
                stage_wall += time.perf_counter() - wall
            else:
                for _ in bare.tokenizer.pipe(texts[at:at + CHUNK], batch_size=1000):
                    pass
                tokenizer += time.process_time() - start
                tokenizer_wall += time.perf_counter() - wall

    linked = sum(1 for a in analyses if a.links)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {args.posts:,} posts, {args.customers:,} customers, "
          f"{sum(len(t.phrases) for t in options.topics)} topic phrases")
    print(f"pipeline built in {built:.1f} s; {linked:,} posts linked to a customer")
    print(f"bare tokenizer:  {rate(args.posts, tokenizer)} posts/s per core "
          f"(wall clock: {rate(args.posts, tokenizer_wall)})")
    print(f"whole stage:     {rate(args.posts, stage)} posts/s per core "
          f"(wall clock: {rate(args.posts, stage_wall)}; "
          f"tokenise + language + customers + topics + sentiment + intent)")
    print(f"ratio stage/tokenizer: {tokenizer / stage:.2f} (wall clock: {tokenizer_wall / stage_wall:.2f})")
    print(f"peak memory (max RSS): {peak_mb:,.0f} MB")


def write_inputs(folder: Path, customers: list[Customer], posts: list[RawPost]) -> tuple[Path, Path, Path]:
    """The registry as a customers CSV, the posts as JSON lines, and a file of one post."""
    registry, many, one = folder / "customers.csv", folder / "posts.jsonl", folder / "one.jsonl"
    with registry.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(("id", "name", "kind", "emails", "domains", "aliases", *PLATFORM_COLUMNS))
        for c in customers:
            handles = {i.platform: i.handle for i in c.identities}
            out.writerow((c.id, c.name, c.kind, ";".join(c.emails), ";".join(c.domains),
                          ";".join(c.aliases), *(handles.get(p, "") for p in PLATFORM_COLUMNS)))
    lines = [json.dumps({"id": p.external_id, "text": p.text, "source": p.source,
                         "author": {"handle": p.author.handle}}, ensure_ascii=False) for p in posts]
    many.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one.write_text(lines[0] + "\n", encoding="utf-8")
    return registry, many, one


def run_timed(command: list[str], stdin: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> tuple[float, float]:
    """CPU seconds (user + system) and wall-clock seconds of one run of ``command``."""
    wall = time.perf_counter()
    with stdin.open("rb") as source:
        # Run from a folder of no code (the inputs' by default): "-c" puts the working
        # directory first on sys.path, ahead of PYTHONPATH (which picks the revision for
        # ``--before``).
        process = subprocess.Popen(command, stdin=source, stdout=subprocess.DEVNULL, env=env,
                                   cwd=cwd or stdin.parent)
        _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{command[:3]} exited with {process.returncode}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - wall


def _revision_env(ref: str, folder: Path) -> dict[str, str]:
    """An environment whose imports come from git revision ``ref`` (extracted into ``folder``)."""
    root = _HERE.parent
    archive = subprocess.run(["git", "archive", ref], capture_output=True, check=True, cwd=root).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return {**os.environ, "PYTHONPATH": str(folder)}


def end_to_end(customers: list[Customer], posts: list[RawPost], args: argparse.Namespace) -> None:
    """``crmsphere analyze --customers`` against the plain script, as processes, in turns."""
    python = sys.executable
    cli = [python, "-c", "import sys; from crmsphere.cli import main; sys.exit(main())", "analyze"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        registry, many, one = write_inputs(folder, customers, posts)
        commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "plain script": ([python, str(_HERE / "plain" / "listener.py"), str(registry)], None),
            "crmsphere analyze": ([*cli, "--customers", str(registry)], None),
        }
        if args.before:
            (folder / "before").mkdir()
            env = _revision_env(args.before, folder / "before")
            commands[f"crmsphere analyze ({args.before})"] = ([*cli, "--customers", str(registry)], env)
        cpu: dict[tuple[str, str], list[float]] = {}
        wall: dict[tuple[str, str], list[float]] = {}
        # Each command runs in its own folder: the gazetteer cache (``data/gazetteer-cache``
        # under the working folder) keeps one registry's build and drops the others', so two
        # revisions sharing one folder rebuilt it on every start.
        folders = {name: folder / f"run{i}" for i, name in enumerate(commands)}
        for path in folders.values():
            path.mkdir()
        # The very first start with this registry builds the gazetteer (and, since the signed
        # cache, saves it): measured apart, so that every measured run finds it saved and a
        # start-up is never costlier than the whole run it belongs to.
        first = {name: run_timed(command, one, env, folders[name])[0]
                 for name, (command, env) in commands.items()}
        for _ in range(args.rounds):
            for name, (command, env) in commands.items():
                for size, stdin in (("one", one), ("all", many)):
                    c, w = run_timed(command, stdin, env, folders[name])
                    cpu.setdefault((name, size), []).append(c)
                    wall.setdefault((name, size), []).append(w)
    n = len(posts)
    print(f"end to end: {len(customers):,} customers, {n:,} posts, median of {args.rounds} runs "
          f"each, CPU seconds (wall clock in brackets)")
    plain = {size: statistics.median(cpu[("plain script", size)]) for size in ("one", "all")}
    plain_rate = n / plain["all"]
    plain_steady = (n - 1) / max(plain["all"] - plain["one"], 1e-9)
    for name in commands:
        print(f"  {name:32} first start-up {first[name]:5.2f} s (the first with this registry; not in the medians)")
    for name in commands:
        start = statistics.median(cpu[(name, "one")])
        total = statistics.median(cpu[(name, "all")])
        steady = (n - 1) / max(total - start, 1e-9)
        print(f"  {name:32} start-up {start:5.2f} s ({statistics.median(wall[(name, 'one')]):5.2f}); "
              f"{n:,} posts {total:6.2f} s ({statistics.median(wall[(name, 'all')]):6.2f}): "
              f"{n / total:7,.0f} posts/s end to end = {n / total / plain_rate:.2f}x plain, "
              f"{steady:7,.0f} after start-up = {steady / plain_steady:.2f}x plain")


if __name__ == "__main__":
    main()
