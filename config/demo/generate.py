"""Deterministic demo-data generator for crmsphere.

Writes ``customers.csv`` (fictional customers of the fictional "Nimbus" SaaS) and
``posts.jsonl`` (posts about Nimbus from reddit, x, mastodon, bluesky, hackernews).
Output is byte-identical on every run: one seeded ``random.Random`` drives everything,
the clock is never read and only ordered containers are iterated.

Usage: ``python config/demo/generate.py [--out DIR]`` (default: this folder).
"""

import argparse
import importlib.util
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261122
START = datetime(2026, 8, 1, tzinfo=timezone.utc)
END = datetime(2026, 11, 15, tzinfo=timezone.utc)
N_POSTS, N_REPLIES, N_SPAM = 3000, 450, 100
# An API outage a day before the end: complaints pile up within hours, so the dashboard's
# spike alerts and volume chart have a real spike to show whatever hour the demo is loaded.
N_INCIDENT, INCIDENT_AT, INCIDENT_HOURS = 45, END - timedelta(hours=30), 5
P_KNOWN_AUTHOR = 0.57  # of non-spam posts; spam is never by a customer -> ~55% overall
P_MENTION = 0.36  # of composed posts; snippets/foreign/spam have none -> ~30% overall
P_FOREIGN = 0.055
TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"  # atproto base32-sortable alphabet
DID_CHARS = "abcdefghijklmnopqrstuvwxyz234567"
TWITTER_EPOCH_MS = 1288834974657


def _load_customers_module():
    # Loaded by path so this works as a script and when imported (config/demo isn't a package).
    spec = importlib.util.spec_from_file_location(
        "crmsphere_demo_customers", Path(__file__).with_name("customers_gen.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


C = _load_customers_module()
V = C.V
Handles, build_customers, write_customers = C.Handles, C.build_customers, C.write_customers
_ascii, _slug, _base36, B36 = C._ascii, C._slug, C._base36, C.B36



class PostFactory:
    """Creates posts one at a time and holds all mutable generation state."""

    def __init__(self, rng: random.Random, registry: Handles, customers: list[dict]):
        self.rng, self.registry, self.customers = rng, registry, customers
        self.ids = {s: set() for s in V.SOURCES}  # membership only
        self.by_source = {s: [] for s in V.SOURCES}
        self.unknown = {s: [] for s in V.SOURCES}
        self.dids = {}
        self.customer_names = {c["name"].lower() for c in customers}
        # A few customers are chatty, most post rarely -- like real communities.
        activity = [rng.choice((1, 1, 1, 1, 2, 2, 3, 5, 8, 13)) for _ in customers]
        self.known = {s: [(c, a) for c, a in zip(customers, activity) if c[s]] for s in V.SOURCES}

    def author(self, source: str, known: bool) -> tuple[dict, dict | None]:
        """Pick an author for ``source``; returns (author json, customer row or None)."""
        rng = self.rng
        if known and self.known[source]:
            cands = self.known[source]
            c = rng.choices([c for c, _ in cands], [a for _, a in cands])[0]
            return {"handle": c[source], "name": c["name"]}, c
        pool = self.unknown[source]
        if pool and rng.random() < 0.45:
            return dict(rng.choice(pool)), None  # Repeat posters look more realistic.
        while True:  # Unknown people must not be mistakable for a customer by name.
            first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
            name = rng.choice((f"{first} {last}", f"{first} {last[0]}.", first,
                               f"{rng.choice(V.HANDLE_WORDS)} {rng.choice(V.HANDLE_WORDS)}",
                               f"{first} {rng.choice(('🚀', '☕', '🌱', '🎧'))}"))
            if name.lower() not in self.customer_names:
                break
        w1, w2 = rng.choice(V.HANDLE_WORDS), rng.choice(V.HANDLE_WORDS)
        local = rng.choice((f"{_slug(first)}{rng.randrange(1, 9999)}", f"{w1}_{w2}",
                            f"{w1}{_slug(first)}", f"{_slug(first)}_{_slug(last)[:5]}"))
        a = {"handle": self.registry.claim(source, local, 15 if source == "x" else 20),
             "name": name}
        pool.append(a)
        return dict(a), None

    def _unique(self, source: str, make) -> str:
        while True:
            ext = make()
            if ext not in self.ids[source]:
                self.ids[source].add(ext)
                return ext

    def identify(self, post: dict, ts: datetime, parent: dict | None) -> None:
        """Assign a realistic, per-source-unique external_id and url (ids track time)."""
        rng, src, h = self.rng, post["source"], post["author"]["handle"]
        ms = int(ts.timestamp()) * 1000 + rng.randrange(1000)
        if src == "reddit":
            if parent is None:
                ext = self._unique(src, lambda: "t3_" + _base36(
                    rng.randrange(int("1m00000", 36), int("1pzzzzz", 36))))
                clean = "".join(ch if ch.isalnum() else " " for ch in _ascii(post["text"]).lower())
                slug = "_".join(clean.split()[:7]) or "nimbus"
                post["_thread"] = (rng.choice(V.SUBREDDITS), ext[3:], slug)
            else:
                ext = self._unique(src, lambda: "t1_" + _base36(
                    rng.randrange(int("m000000", 36), int("nzzzzzz", 36))))
                post["_thread"] = parent["_thread"]
            sub, root, slug = post["_thread"]
            tail = f"{ext[3:]}/" if parent else ""
            post["url"] = f"https://www.reddit.com/r/{sub}/comments/{root}/{slug}/{tail}"
        elif src == "x":  # snowflake: ms since twitter epoch << 22
            ext = self._unique(src, lambda: str(((ms - TWITTER_EPOCH_MS) << 22)
                                                | rng.getrandbits(22)))
            post["url"] = f"https://x.com/{h}/status/{ext}"
        elif src == "mastodon":  # mastodon ids: unix ms << 16
            ext = self._unique(src, lambda: str((ms << 16) | rng.getrandbits(16)))
            user, instance = h.split("@")
            post["url"] = f"https://{instance}/@{user}/{ext}"
        elif src == "bluesky":
            if h not in self.dids:
                self.dids[h] = "did:plc:" + "".join(rng.choice(DID_CHARS) for _ in range(24))

            def tid():  # real atproto TID: (microseconds << 10 | clock id) in base32-sortable
                n = ((ms * 1000 + rng.randrange(1000)) << 10) | rng.randrange(1024)
                return "".join(TID_CHARS[(n >> (5 * i)) & 31] for i in range(12, -1, -1))

            ext = self._unique(src, lambda: f"at://{self.dids[h]}/app.bsky.feed.post/{tid()}")
            post["url"] = f"https://bsky.app/profile/{h}/post/{ext.rsplit('/', 1)[1]}"
        else:  # hackernews: one global counter, roughly 12k items/day
            secs = (ts - START).total_seconds()
            ext = self._unique(src, lambda: str(45_600_000 + int(secs * 0.14) + rng.randrange(60)))
            post["url"] = f"https://news.ycombinator.com/item?id={ext}"
        post["external_id"] = ext

    def fill(self, template: str, source: str) -> str:
        """Substitute {p} (how this poster names Nimbus) and {n} (a number)."""
        opts, w = ["Nimbus", "nimbus", "the Nimbus app", "Nimubs", "NIMBUS"], [55, 20, 8, 3, 2]
        if source in ("x", "bluesky", "mastodon"):  # these users tag the official account
            opts.append("@nimbushq.bsky.social" if source == "bluesky" else "@nimbushq")
            w.append(15)
        return template.format(p=self.rng.choices(opts, w)[0],
                               n=self.rng.choice((3, 5, 12, 20, 40, 200)))

    def typo(self, word: str) -> str:
        """Return ``word`` with one keyboard slip (swap, drop or double a letter)."""
        if len(word) < 4:
            return word
        i, kind = self.rng.randrange(1, len(word) - 2), self.rng.randrange(3)
        if kind == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word[:i] + word[i + 1:] if kind == 1 else word[:i] + word[i] + word[i:]

    def noisy(self, text: str, mood: str) -> str:
        """Add the typos, casing and punctuation habits of real posters."""
        rng = self.rng
        if rng.random() < 0.15:
            words = text.split(" ")
            spots = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 3]
            for i in rng.sample(spots, min(len(spots), rng.randint(1, 2))):
                words[i] = self.typo(words[i])
            text = " ".join(words)
        if mood == "complaint" and rng.random() < 0.1:
            text = text.upper()
        elif rng.random() < 0.25:
            text = text.lower()
        if text[-1] in ".!?" and rng.random() < 0.15:
            angry = text[-1] == "?" or mood == "complaint"
            text = text.rstrip(".!?") + rng.choice(("!!!", "!!", "???", "?!?!") if angry
                                                   else ("!!!", "!!"))
        return text

    def mention(self, source: str, author_c: dict | None) -> str:
        """A sentence naming some customer the way people do (alias, @handle, typo, lower)."""
        rng = self.rng
        if author_c and author_c["company"] and rng.random() < 0.35:
            return rng.choice(V.SELF_MENTION_TEMPLATES).format(m=author_c["company"])
        while True:
            c = rng.choice(self.customers)
            if c is not author_c and (c["kind"] == "company" or rng.random() < 0.6):
                break
        forms = [c["name"], c["name"].lower(), self.typo(c["name"])] + c["aliases"]
        if c[source]:
            forms += [{"reddit": "u/", "hackernews": ""}.get(source, "@") + c[source]] * 2
        templates = V.COMPANY_MENTION_TEMPLATES if c["kind"] == "company" else V.MENTION_TEMPLATES
        return rng.choice(templates).format(m=rng.choice(forms))

    def compose(self, source: str, topic: str, mood: str, author_c, long: bool) -> str:
        """Build one post text of 3-60 words (long reddit posts run longer on purpose)."""
        rng = self.rng
        parts = [self.fill(rng.choice(V.OPENERS[mood]), source)] if rng.random() < 0.3 else []
        pool = V.DISTRACTORS if rng.random() < 0.05 else V.TOPICS[topic][mood]
        core = rng.choice(pool)
        parts.append(self.fill(core, source))
        if long:
            parts += [self.fill(x, source) for x in rng.sample(V.LONG_FILLERS, rng.randint(4, 6))]
            parts.append(self.fill(rng.choice(V.TOPICS[topic]["question"]), source))
        elif rng.random() < 0.35:
            parts.append(self.fill(rng.choice(V.TOPICS[topic][rng.choice(V.MOODS)]), source))
        text = self.noisy(" ".join(parts), mood)
        if rng.random() < P_MENTION:
            m = self.mention(source, author_c)
            text = f"{m} {text}" if rng.random() < 0.3 else f"{text} {m}"
        return self.decorate(text, source, topic, mood)

    def decorate(self, text: str, source: str, topic: str, mood: str) -> str:
        """Append links, hashtags and emoji/emoticons following per-platform habits."""
        rng = self.rng
        if rng.random() < 0.12:
            code = "".join(rng.choice(B36) for _ in range(8))
            text += " " + V.TOPIC_URLS[topic].format(code=code)
        if source != "hackernews":  # HN strips emoji and nobody uses hashtags there.
            if rng.random() < (0.08 if source == "reddit" else 0.3):
                tags = rng.sample(V.TOPIC_HASHTAGS[topic] + V.GENERIC_HASHTAGS, rng.randint(1, 2))
                text += " " + " ".join(tags)
            if rng.random() < 0.35:
                text += " " + rng.choice(V.EMOJI[mood]) * rng.choice((1, 1, 1, 2, 3))
        if rng.random() < 0.1:
            text += " " + rng.choice(V.EMOTICONS[mood])
        return text

    def make(self, source: str, ts: datetime, kind: str, parent: dict | None = None,
             topic: str | None = None, mood: str | None = None) -> dict:
        """Create one post of ``kind`` ("normal", "spam" or "foreign") at ``ts``; ``topic``
        and ``mood`` are drawn at random unless given."""
        rng = self.rng
        topic = parent["_topic"] if parent else topic or rng.choice(list(V.TOPICS))
        if kind == "spam":  # many throwaway accounts posting identical text
            prefix = rng.choice(("crypto", "deals", "promo", "airdrop"))
            local = f"{prefix}_{rng.randrange(1000, 99999)}"
            author = {"handle": self.registry.claim(source, local, 15),
                      "name": rng.choice(V.SPAM_NAMES)}
            text = rng.choice(V.SPAM_TEXTS)
        else:
            author, author_c = self.author(source, rng.random() < P_KNOWN_AUTHOR)
        if kind == "foreign":
            text = rng.choice(V.NON_ENGLISH)
        elif kind == "normal":
            mood = mood or rng.choices(V.MOODS, V.MOOD_WEIGHTS)[0]
            if parent and rng.random() < 0.4:
                text = self.decorate(self.fill(rng.choice(V.REPLY_SNIPPETS), source),
                                     source, topic, mood)
            else:
                long = source == "reddit" and not parent and rng.random() < 0.03
                text = self.compose(source, topic, mood, author_c, long)
        post = {"source": source, "external_id": "", "author": author, "text": text,
                "created_at": ts.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": None,
                "_ts": ts, "_topic": topic, "_spam": kind == "spam"}
        if parent:
            post["parent_id"] = parent["external_id"]
        self.identify(post, ts, parent)
        self.by_source[source].append(post)
        return post


def _random_ts(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    return lo + timedelta(seconds=rng.randrange(int((hi - lo).total_seconds())))


def build_posts(rng: random.Random, registry: Handles, customers: list[dict]) -> list[dict]:
    """Build N_POSTS posts (spam, top-level, replies) and the incident, sorted chronologically."""
    f = PostFactory(rng, registry, customers)
    posts = []
    # Spam arrives in bursts: the same text from many fresh accounts within hours.
    bursts = [_random_ts(rng, START, END - timedelta(days=1)) for _ in range(6)]
    for _ in range(N_SPAM):
        ts = rng.choice(bursts) + timedelta(seconds=rng.randrange(6 * 3600))
        source = rng.choices(("x", "bluesky", "mastodon", "reddit"), (5, 3, 2, 1))[0]
        posts.append(f.make(source, ts, "spam"))
    for _ in range(N_POSTS - N_REPLIES - N_SPAM):
        source = rng.choices(V.SOURCES, V.SOURCE_WEIGHTS)[0]
        kind = "foreign" if rng.random() < P_FOREIGN else "normal"
        posts.append(f.make(source, _random_ts(rng, START, END - timedelta(hours=6)), kind))
    for _ in range(N_REPLIES):
        source = rng.choices(V.SOURCES, V.SOURCE_WEIGHTS)[0]
        parent = rng.choice([p for p in f.by_source[source] if not p["_spam"]])
        delay = rng.choice((rng.randrange(60, 3600), rng.randrange(3600, 86400),
                            rng.randrange(86400, 3 * 86400)))
        ts = min(parent["_ts"] + timedelta(seconds=delay), END - timedelta(seconds=1))
        kind = "foreign" if rng.random() < P_FOREIGN else "normal"
        posts.append(f.make(source, ts, kind, parent))
    for _ in range(N_INCIDENT):  # drawn last, so every post above is the same as without it
        source = rng.choices(V.SOURCES, V.SOURCE_WEIGHTS)[0]
        ts = INCIDENT_AT + timedelta(seconds=rng.randrange(INCIDENT_HOURS * 3600))
        posts.append(f.make(source, ts, "normal", topic="api", mood="complaint"))
    # Parents always sort before their replies because replies are strictly later.
    posts.sort(key=lambda p: (p["_ts"], p["source"], p["external_id"]))
    return posts


def write_posts(posts: list[dict], path: Path) -> None:
    """Write posts.jsonl, one JSON object per line, private ``_`` fields stripped."""
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for p in posts:
            fh.write(json.dumps({k: v for k, v in p.items() if not k.startswith("_")},
                                ensure_ascii=False) + "\n")


def generate(out_dir: Path) -> tuple[int, int]:
    """Write customers.csv and posts.jsonl into ``out_dir``; return (customers, posts)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    registry = Handles(rng)
    customers = build_customers(rng, registry)
    posts = build_posts(rng, registry, customers)
    write_customers(customers, out_dir / "customers.csv")
    write_posts(posts, out_dir / "posts.jsonl")
    return len(customers), len(posts)


def main() -> None:
    """CLI entry point: ``python config/demo/generate.py [--out DIR]``."""
    parser = argparse.ArgumentParser(description="Generate crmsphere demo data.")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output directory (default: this script's folder)")
    args = parser.parse_args()
    n_customers, n_posts = generate(args.out)
    print(f"wrote {n_customers} customers and {n_posts} posts to {args.out}")


if __name__ == "__main__":
    main()
