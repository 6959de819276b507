"""The demo's customers: fictional companies and people of the "Nimbus" demo, with their
handles on each platform (unique per platform), written as ``customers.csv``.

Part of the deterministic demo generator (``generate.py`` loads this file by path, as
config/demo is not a package): everything is driven by the random generator passed in.
"""

import csv
import importlib.util
import math
import random
import unicodedata
from pathlib import Path

N_COMPANIES, N_PEOPLE = 100, 200
CSV_FIELDS = ("id", "name", "kind", "company", "segment", "annual_revenue", "emails",
              "domains", "aliases", "reddit", "x", "mastodon", "bluesky", "hackernews")
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def load_sibling(name: str):
    """The module ``name``.py of this folder, loaded by path (works as a script and imported)."""
    spec = importlib.util.spec_from_file_location(
        f"crmsphere_demo_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V = load_sibling("vocabulary")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(text: str) -> str:
    return "".join(c for c in _ascii(text).lower() if c.isalnum())


def _base36(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = B36[r] + out
    return out or "0"


class Handles:
    """Per-platform handle registry so no two authors (known or unknown) share a handle."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken = {s: set() for s in V.SOURCES}  # membership tests only, never iterated

    def claim(self, source: str, local: str, limit: int = 20) -> str:
        """Return a unique full handle for ``source`` built from ``local``."""
        if source == "bluesky":
            local = local.replace("_", "-").lower()
        cand = local[:limit]
        while self._full(source, cand).lower() in self.taken[source]:
            sep = self.rng.choice(("", "-" if source == "bluesky" else "_"))
            cand = f"{local[:limit - 4]}{sep}{self.rng.randrange(2, 999)}"
        full = self._full(source, cand)
        self.taken[source].add(full.lower())
        return full

    @staticmethod
    def _full(source: str, local: str) -> str:
        if source == "mastodon":
            # Instance derived from the local part (not rng) so retries change the handle.
            insts = V.MASTODON_INSTANCES
            return f"{local}@{insts[sum(map(ord, local)) % len(insts)]}"
        return f"{local}.bsky.social" if source == "bluesky" else local


def _person_local(rng: random.Random, first: str, last: str) -> str:
    f, l, w = _slug(first), _slug(last), rng.choice(V.HANDLE_WORDS)
    return rng.choice((f + l, f"{f}_{l}", f[0] + l, f + l[0], f"{f}{l}{rng.randrange(10, 99)}",
                       l + f[0], f"{f}_{w}", f"{w}{f}", f"{f}{rng.randrange(1980, 2004)}"))


def _company_local(rng: random.Random, name: str) -> str:
    words = [_slug(w) for w in name.split() if _slug(w)]
    s = "".join(words)
    return rng.choice((s, s[:12] + "hq", f"{words[0]}_{words[-1]}", f"get{s}"[:15],
                       "".join(w[0] for w in words) + "_" + words[0]))


def _handles_for(rng: random.Random, registry: Handles, kind: str, local_fn) -> dict:
    out = {}
    for source in V.SOURCES:
        out[source] = ""
        if rng.random() < V.HANDLE_ODDS[source][0 if kind == "person" else 1]:
            local = local_fn()
            if source == "reddit" and rng.random() < 0.2:
                local = local.capitalize()  # Reddit users often keep mixed case.
            out[source] = registry.claim(source, local, 15 if source == "x" else 20)
    return out


def _revenue(rng: random.Random, segment: str) -> int:
    lo, hi = V.SEGMENT_REVENUE[segment]
    raw = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    return int(round(raw, 3 - len(str(raw))))  # 3 significant figures, like a real estimate


def build_customers(rng: random.Random, registry: Handles) -> list[dict]:
    """Build N_COMPANIES companies and N_PEOPLE people with ids ``cus_0001``..."""
    specs = [(n, list(a), s) for n, a, s in V.AMBIGUOUS_COMPANIES]
    pairs = [(p, n) for p in V.COMPANY_PREFIXES for n in V.COMPANY_NOUNS]
    for prefix, noun in rng.sample(pairs, N_COMPANIES - len(specs)):
        words = f"{prefix} {noun}".split()
        aliases = []
        if rng.random() < 0.3:
            aliases.append(rng.choice((prefix, "".join(w[0] for w in words).upper())))
        seg = rng.choices(("enterprise", "mid-market", "smb", "startup"), (12, 25, 38, 25))[0]
        specs.append((f"{prefix} {noun}", aliases, seg))

    companies = {}
    for name, aliases, seg in specs:
        slug = _slug(name)
        domains = [f"{slug}.{rng.choice(V.COMPANY_TLDS)}"]
        if rng.random() < 0.2:
            domains.append(f"{rng.choice(('get', 'try', 'my'))}{slug}.example")
        boxes = rng.sample(("hello", "billing", "support", "ops", "admin", "finance"),
                           rng.randint(1, 2))
        companies[name] = {
            "name": name, "kind": "company", "company": "", "segment": seg,
            "annual_revenue": _revenue(rng, seg), "emails": [f"{b}@{domains[0]}" for b in boxes],
            "domains": domains, "aliases": aliases,
            **_handles_for(rng, registry, "company", lambda n=name: _company_local(rng, n)),
        }

    people_specs = [(n, c, list(a)) for n, c, a in V.AMBIGUOUS_PEOPLE]
    seen = {n for n, _, _ in people_specs}
    names = list(companies)
    # Bigger companies employ more of our demo contacts.
    weights = [{"enterprise": 5, "mid-market": 3}.get(companies[c]["segment"], 2) for c in names]
    while len(people_specs) < N_PEOPLE:
        first, last = rng.choice(V.FIRST_NAMES), rng.choice(V.LAST_NAMES)
        if f"{first} {last}" in seen:
            continue
        seen.add(f"{first} {last}")
        company = rng.choices(names, weights)[0] if rng.random() < 0.85 else None
        aliases = [f"{V.NICKNAMES[first]} {last}"] if (
            first in V.NICKNAMES and rng.random() < 0.7) else []
        people_specs.append((f"{first} {last}", company, aliases))

    people = []
    for name, company, aliases in people_specs:
        first, last = name.split(" ", 1)
        local, co = f"{_slug(first)}.{_slug(last)}", companies.get(company)
        emails = [f"{local}@{co['domains'][0]}"] if co else []
        if not co or rng.random() < 0.25:
            emails.append(f"{local}{rng.choice(('', str(rng.randrange(1, 99))))}"
                          f"@{rng.choice(V.PERSONAL_MAIL_DOMAINS)}")
        people.append({
            "name": name, "kind": "person", "company": company or "",
            "segment": co["segment"] if co else "consumer",
            "annual_revenue": co["annual_revenue"] if co else "", "emails": emails,
            "domains": [f"{_slug(name)}.example"] if rng.random() < 0.1 else [],
            "aliases": aliases,
            **_handles_for(rng, registry, "person",
                           lambda f=first, l=last: _person_local(rng, f, l)),
        })

    customers = list(companies.values()) + people
    rng.shuffle(customers)  # Interleave kinds so ids don't reveal who is a company.
    for i, c in enumerate(customers, 1):
        c["id"] = f"cus_{i:04d}"
    return customers


def write_customers(customers: list[dict], path: Path) -> None:
    """Write customers.csv with the exact header other tools expect (``;`` joins lists)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, lineterminator="\n")
        w.writeheader()
        for c in customers:
            w.writerow({k: ";".join(c[k]) if isinstance(c[k], list) else c[k] for k in CSV_FIELDS})
