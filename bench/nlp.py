"""Benchmark of the NLP stage (not a test): posts/s per core, whole stage vs. bare tokenizer.

    .venv/bin/python bench/nlp.py [--posts 50000] [--customers 100000] [--phrases 500]

A deterministic corpus (~25 words a post, handles, hashtags, URLs, emoji) is analysed
by one process after a warm-up on a separate chunk; prints posts/s of spaCy's bare
tokenizer and of tokenise + language + customers + topics + sentiment + intent (the two
take turns chunk by chunk), the ratio, and the peak memory (max RSS) of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide
# the ``nlp`` package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import spacy  # noqa: E402

from crmsphere.domain import Author, Customer, Identity, RawPost, utcnow  # noqa: E402
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
