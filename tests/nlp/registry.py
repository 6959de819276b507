"""A large, deterministic customer registry (no Faker): companies and people with the fields
a CRM export carries — domains, aliases, mail addresses, handles on several platforms."""

from __future__ import annotations

import random

from domain import Customer, Identity

_SYLLABLES = ("ka", "lo", "mi", "ra", "ven", "tor", "sil", "bar", "quin", "zel", "dor", "fen",
              "mar", "tis", "ell", "oy", "nik", "sa", "pe", "ul")
_FIRST = ("Jo", "Ana", "Ravi", "Mei", "Lukas", "Fatima", "Chloé", "Søren", "Aoife", "José",
          "Nguyen", "Olu", "Priya", "Zoë", "Björn", "Leila")
_SUFFIXES = ("Labs", "GmbH", "Bakery", "Media", "Logistics", "Studio", "Inc.", "S.A.", "& Sons", "Ltd")
_PLATFORMS = ("x", "reddit", "mastodon", "bluesky", "hackernews")


def _word(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def make_registry(n: int, seed: int = 7) -> list[Customer]:
    """``n`` customers, half companies (domain, alias, handle), half people (mail, two handles)."""
    rng = random.Random(seed)
    out: list[Customer] = []
    for i in range(n):
        if i % 2:
            stem = _word(rng).title()
            out.append(Customer(
                f"cus_{i:06d}", f"{stem} {rng.choice(_SUFFIXES)}", "company",
                domains=(f"{stem.lower()}{i}.example",), aliases=(f"{stem}{i % 97}",),
                identities=(Identity(rng.choice(_PLATFORMS), f"{stem.lower()}_{i}"),)))
        else:
            first, last = rng.choice(_FIRST), _word(rng, 2).title()
            company = out[-1].name if out and rng.random() < 0.3 else None
            out.append(Customer(
                f"cus_{i:06d}", f"{first} {last}", "person", company=company,
                emails=(f"{first.lower()}.{last.lower()}{i}@mail{i % 50}.example",),
                identities=(Identity("x", f"{last.lower()}{i}"),
                            Identity(rng.choice(_PLATFORMS), f"{first.lower()}_{last.lower()}{i}"))))
    return out
