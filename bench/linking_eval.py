"""Customer-linking accuracy on text not written to fit the rules (not a test): P/R, false links, calibration.

    .venv/bin/python bench/linking_eval.py [--customers 100000] [--posts 6000] [--before REF]

The registry comes from Faker (fixed seed): companies as Faker names them ("Watkins and
Sons", "Moon-Wells", "Chang PLC"), people from English, German, French and Spanish locales
(so some names carry accents), and companies named after everyday words with the word as
an alias ("Signal Logistics" / "Signal"), one customer per word. Posts are social-media sentences around a
customer's name written the ways people write it (lower case, capitals, possessive, a
hashtag, a run-together @handle or web address, a line break, no accents) with Faker's
random-word sentences as filler, and posts naming no customer: random-word sentences full
of everyday words, a public figure who shares a customer's name, a customer's name inside
a longer name, an everyday-word alias used as a word.

Each post naming a customer also says what the issue's rules expect for it (``Expectation``:
decided from what the generator wrote and the registry, with wordfreq's English list for
which words are everyday words; the linker is not asked): ``accept`` when the name as
written is only one customer's and not word-like without a cue, ``review`` otherwise.

Printed: precision of accepted links (those at or above ``review_below``); raw recall (right
customers accepted among all labelled ones); recall where the rules expect acceptance; the
share of review-expected mentions that went to the review queue (linked below
``review_below``); recall when the review queue counts too; false accepted links per 1,000
posts naming no customer; the mentions that went against expectation, by cause; and a
calibration table (per confidence value: links, share right). ``--before REF`` runs the
same evaluation on the code of git revision REF in the same run, for a before/after.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from faker import Faker  # noqa: E402
from faker.providers.company import en_US as faker_company  # noqa: E402

from domain import Author, Customer, Identity, RawPost, utcnow  # noqa: E402

INDUSTRY = ["Logistics", "Health", "Technologies", "Labs", "Media", "Analytics", "Foods", "Energy"]
CONTEXT = [
    "Just got off a call with {n} about the renewal, went well",
    "{n} support took 3 days to answer my ticket",
    "anyone else having login issues with {n} today?",
    "Huge thanks to {n} for sorting out our invoice so fast",
    "Our team moved to {n} last month and onboarding was painless",
    "{n} pushed an update and now the export is broken",
    "been a {n} customer for 2 years, pricing just went up again",
    "Q: does {n} have an API for this? the docs are confusing",
]
PLAIN = [
    "{n} is honestly the best",
    "cannot believe what {n} did lol",
    "shoutout to {n} 🙌",
    "{f} {n}",
    "{n}: {f}",
    "ok so {n} again. {f}",
]
FAMOUS = ["{n} to be featured on HBO tonight", "{n} spotted at the Oscars with friends",
          "Thoughts on the {n} interview last night?", "{n} announces a new book tour"]


def make_registry(n: int, seed: int) -> tuple[list[Customer], list[str]]:
    """``n`` customers and the everyday words used as aliases."""
    fakes = {loc: Faker(loc) for loc in ("en_US", "de_DE", "fr_FR", "es_ES")}
    for i, f in enumerate(fakes.values()):
        f.seed_instance(seed + i)
    en = fakes["en_US"]
    rng = random.Random(seed)
    out: list[Customer] = []
    words: list[str] = []
    for i in range(n):
        if i % 100 == 0 and len(words) < 900:
            # One customer per word (Faker's English word list holds about a thousand).
            word = en.unique.word().title()
            words.append(word)
            out.append(Customer(f"w{i}", f"{word} {rng.choice(INDUSTRY)}", "company", aliases=(word,)))
        elif i % 2:
            name = en.company()
            handle = "".join(c for c in name.lower() if c.isalnum())[:15] + str(i)
            out.append(Customer(f"c{i}", name, "company", identities=(Identity("x", handle),)))
        else:
            loc = rng.choice(("en_US", "en_US", "de_DE", "fr_FR", "es_ES"))
            out.append(Customer(f"p{i}", fakes[loc].name(), "person"))
    return out, words


def _squash(name: str) -> str:
    return "".join(c for c in name if c.isalnum())


def _strip_accents(name: str) -> str:
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def surface(name: str, rng: random.Random) -> tuple[str, str]:
    """A way people write ``name``, and what it is called."""
    forms = [("as registered", name), ("lower case", name.lower()), ("capitals", name.upper()),
             ("possessive", name + "'s"), ("hashtag", "#" + _squash(name.title())),
             ("hashtag lower", "#" + _squash(name).lower()),
             ("hashtag underscores", "#" + "_".join(name.replace("-", " ").replace(",", "").split()))]
    if " " in name:
        at = rng.choice([i for i, c in enumerate(name) if c == " "])
        forms.append(("line break", name[:at] + "\n" + name[at + 1:]))
    if "-" in name:
        forms.append(("hyphen as space", name.replace("-", " ")))
    if _strip_accents(name) != name:
        forms.append(("accents dropped", _strip_accents(name)))
        forms.append(("accents dropped", _strip_accents(name)))
    return rng.choice(forms)[::-1]  # type: ignore[return-value]


def make_posts(customers: list[Customer], words: list[str], n: int, seed: int) -> list[dict]:
    """Labelled posts: about 60% name a customer, the rest are hard negatives."""
    f = Faker("en_US")
    f.seed_instance(seed)
    rng = random.Random(seed)
    people = [c for c in customers if c.kind == "person"]
    posts = []
    for _ in range(n):
        kind = rng.random()
        filler = f.sentence(nb_words=rng.randint(4, 10))
        if kind < 0.6:
            c = rng.choice(customers)
            phrase = rng.choice((c.name, *c.aliases))
            name, form = surface(phrase, rng)
            template = rng.choice(CONTEXT if rng.random() < 0.5 else PLAIN)
            if form.startswith("hashtag"):
                text, label = f"{filler} {name}", "customer by " + form
            else:
                text, label = template.format(n=name, f=filler), "customer by " + form
            if phrase != c.name:
                label = "customer by an alias"
            # What the generator wrote, for the expected outcome: the name as written (without
            # the possessive), how, and whether the template put customer-service words there.
            cue = template in CONTEXT and not form.startswith("hashtag")
            written = name[:-2] if form == "possessive" else name
            posts.append({"text": text, "customers": [c.id], "kind": label, "phrase": phrase,
                          "written": written, "form": form, "cue": cue})
        elif kind < 0.75:
            posts.append({"text": " ".join(f.sentences(rng.randint(1, 3))), "customers": [],
                          "kind": "random words"})
        elif kind < 0.85:
            p = rng.choice(people)
            posts.append({"text": rng.choice(FAMOUS).format(n=p.name), "customers": [],
                          "kind": "public figure sharing a name"})
        elif kind < 0.93:
            p = rng.choice(people)
            posts.append({"text": f"Loved {f.first_name()} {p.name} in that show", "customers": [],
                          "kind": "inside a longer name"})
        else:
            w = rng.choice(words).lower()
            posts.append({"text": f"the {w} {filler[0].lower()}{filler[1:]}", "customers": [],
                          "kind": "everyday word"})
    return posts


#: wordfreq's Zipf scale: 3.0 is once per million words of English, the posts' language.
COMMON_ZIPF = 3.0
#: Faker's own company suffixes ("Inc", "and Sons", ...): a name ending in one is a company's.
_FAKER_SUFFIXES = tuple(" " + s.lower() for s in faker_company.Provider.company_suffixes)


def _plain_key(text: str) -> str:
    return " ".join(text.lower().split())


def _tag_key(text: str) -> str:
    return "#" + "".join(ch for ch in text.lower() if ch.isalnum())


class Expectation:
    """What the issue's rules expect for each labelled mention, from the generator and registry only.

    ``accept`` when the name as written can be only one customer's and is not word-like
    without a cue; ``review`` otherwise. "Only one customer's": no other customer's name or
    alias gives the same text in any of the generator's ways of writing a name (case, line
    break, hyphen as space, accents dropped, a hashtag). "Word-like": a name or alias of one
    word that is common in English by wordfreq's list (Zipf ≥ ``COMMON_ZIPF``, "Respond"),
    or a person's name whose every word is ("Thomas Holmes"). A cue is what the generator
    put there: customer-service words of the template around the name, or a hyphen written
    in a person's name ("Hall-Martinez").
    Capitals alone are no cue (they are how public figures are written too). A company's
    name of several everyday words ("Houston-Wilson", "Signal Logistics") is neither a
    common word nor a person's name: it is expected accepted, but two such words in lower
    case without a hyphen or a Faker company suffix ("signal logistics") read as the words
    and need the cue ("reed, martin and brown", "sloan and sons" do not). One everyday word in
    lower case ("thanks to charge for ...") is the word itself: review, cue or not. The
    linker is never asked.
    """

    def __init__(self, customers: list[Customer]) -> None:
        import wordfreq

        self.zipf = wordfreq.zipf_frequency
        self.kind = {c.id: c.kind for c in customers}
        # Written key → the one customer who can have written it, or "" when several can.
        self.owner: dict[str, str] = {}
        for c in customers:
            for phrase in {c.name, *c.aliases}:
                bare = _strip_accents(phrase)
                variants = {phrase, bare, phrase.replace("-", " "), bare.replace("-", " ")}
                for variant in variants | {v.upper() for v in variants}:  # "ß" in capitals is "SS"
                    for key in (_plain_key(variant), _tag_key(variant)):
                        if self.owner.setdefault(key, c.id) != c.id:
                            self.owner[key] = ""

    def common(self, word: str) -> bool:
        """``word`` (lower case) is common in English, with or without its accents."""
        return max(self.zipf(word, "en"), self.zipf(_strip_accents(word), "en")) >= COMMON_ZIPF

    def __call__(self, post: dict) -> tuple[str, str]:
        """("accept" or "review", why) for a post naming one customer."""
        form, written, phrase = post["form"], post["written"], post["phrase"]
        tag = form.startswith("hashtag")
        if not self.owner[_tag_key(written) if tag else _plain_key(written)]:
            return "review", "written as several customers write their names"
        words = [w for w in (w.replace(".", "").strip(",'") for w in phrase.lower().replace("-", " ").split()) if w]
        if not all(self.common(w) for w in words):
            return "accept", "a distinctive name"
        person = self.kind[post["customers"][0]] == "person"
        lower = written.islower() and not tag
        if len(words) == 1 and lower:
            return "review", "one everyday word in lower case: the word itself"
        if len(words) > 1 and "-" in written and not tag:
            return "accept", "a hyphenated name"
        if len(words) > 1 and not person and (
                not lower or len(words) > 2 or phrase.lower().endswith(_FAKER_SUFFIXES)):
            return "accept", "a company's name of everyday words"
        what = ("one everyday word" if len(words) == 1 else "a common person's name" if person
                else "a company's name of everyday words in lower case")
        if post["cue"]:
            return "accept", f"{what}, customer-service words around it"
        return "review", f"{what}, no cue"


def evaluate(customers: list[Customer], posts: list[dict]) -> dict:
    """Metrics of the linker importable here (the current tree, or a ``--before`` one)."""
    from nlp.pipeline import StageOptions, analyse_posts, build_pipeline

    expect = Expectation(customers)
    options = StageOptions()
    nlp = build_pipeline(customers, options=options)
    raws = [RawPost("x", str(i), Author(f"user{i}"), p["text"], utcnow()) for i, p in enumerate(posts)]
    analyses = analyse_posts(nlp, raws, options=options)
    # Per expected outcome, why it is expected and what happened: (count, an example post).
    outcomes: dict[str, dict[str, list]] = {"accept": {}, "review": {}}
    expected_n = {"accept": 0, "review": 0}
    accept_ok = review_ok = 0
    tp = fp = fn = tp_any = 0
    false_on_empty = empty = 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    calib: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for p, a in zip(posts, analyses):
        gold = set(p["customers"])
        best: dict[str, float] = {}
        for k in a.links:
            best[k.customer_id] = max(best.get(k.customer_id, 0.0), k.confidence)
        accepted = {c for c, conf in best.items() if conf >= options.review_below}
        for c, conf in best.items():
            calib[round(conf, 2)][0] += 1
            calib[round(conf, 2)][1] += c in gold
        tp += len(gold & accepted)
        fp += len(accepted - gold)
        fn += len(gold - accepted)
        tp_any += len(gold & set(best))
        if gold:
            outcome, why = expect(p)
            (c,) = gold
            found = [k for k in a.links if k.customer_id == c]
            if c in accepted:
                result = "accepted"
            elif found:
                result = f"review queue: rule {found[0].rule} at {found[0].confidence:.2f}"
            else:
                result = f"not found: {p['form']}"
            expected_n[outcome] += 1
            accept_ok += outcome == "accept" and c in accepted
            review_ok += outcome == "review" and bool(found) and c not in accepted
            if (outcome == "accept") != (result == "accepted") or (outcome == "review" and not found):
                entry = outcomes[outcome].setdefault(f"{why}; {result}", [0, p["text"]])
                entry[0] += 1
        row = by_kind[p["kind"]]
        row[0] += 1
        row[1] += len(gold & accepted) if gold else 0
        row[2] += len(accepted - gold)
        if not gold:
            empty += 1
            false_on_empty += len(accepted)
    gold_total = sum(len(p["customers"]) for p in posts)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / gold_total if gold_total else 1.0,
        "recall_with_review": tp_any / gold_total if gold_total else 1.0,
        "expected": expected_n,
        "recall_accept_expected": accept_ok / max(1, expected_n["accept"]),
        "review_expected_to_review": review_ok / max(1, expected_n["review"]),
        "against_expectation": {o: dict(sorted(v.items(), key=lambda m: -m[1][0])) for o, v in outcomes.items()},
        "false_links_per_1000_empty": 1000 * false_on_empty / max(1, empty),
        "by_kind": dict(by_kind),
        "calibration": {str(k): v for k, v in sorted(calib.items())},
    }


def _run_before(ref: str, args: argparse.Namespace) -> dict:
    """The same evaluation on revision ``ref`` (its ``nlp`` and ``crmsphere`` packages)."""
    root = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                               text=True, check=True, cwd=_HERE).stdout.strip())
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", ref, "nlp", "crmsphere", "config", "collectors"],
                                 capture_output=True, check=True, cwd=root).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        done = subprocess.run(
            [sys.executable, __file__, "--customers", str(args.customers), "--posts", str(args.posts),
             "--seed", str(args.seed), "--json"],
            capture_output=True, text=True, check=True, env={"PYTHONPATH": tmp, "PATH": "/usr/bin:/bin"})
        return json.loads(done.stdout.strip().splitlines()[-1])


def _print(title: str, m: dict) -> None:
    print(f"{title}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
          f"recall where the rules expect acceptance {m['recall_accept_expected']:.3f}  "
          f"where they expect review, in review {m['review_expected_to_review']:.3f}  "
          f"recall incl. review queue {m['recall_with_review']:.3f}  "
          f"false links per 1,000 posts naming no customer {m['false_links_per_1000_empty']:.1f}")


def main() -> None:
    """Build the registry and posts, evaluate, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=6_000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--before", help="a git revision to evaluate in the same run")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON line")
    args = parser.parse_args()
    customers, words = make_registry(args.customers, args.seed)
    posts = make_posts(customers, words, args.posts, args.seed + 1)
    after = evaluate(customers, posts)
    if args.json:
        print(json.dumps(after))
        return
    print(f"registry: {len(customers):,} Faker customers; posts: {len(posts):,} "
          f"({sum(1 for p in posts if p['customers']):,} naming a customer)")
    if args.before:
        _print(f"before ({args.before})", _run_before(args.before, args))
    _print("now", after)
    print("\nper kind of post (now): posts, right accepted links, wrong accepted links")
    for kind, (n, right, wrong) in sorted(after["by_kind"].items()):
        print(f"  {kind:34} {n:6} {right:6} {wrong:6}")
    n = after["expected"]
    print(f"\nlabelled mentions the rules expect accepted: {n['accept']:,}; expect in review: {n['review']:,}")
    for outcome, title in (("accept", "expected accepted, not accepted"), ("review", "expected in review, not there")):
        print(f"\n{title} (now), by why expected and what happened: count, an example post")
        for cause, (count, example) in after["against_expectation"][outcome].items():
            print(f"  {cause:86} {count:5}  {example[:60]!r}")
    print("\ncalibration (now): confidence, links, share right")
    for conf, (n, right) in after["calibration"].items():
        print(f"  {float(conf):.2f} {n:7} {right / n:6.2f}")


if __name__ == "__main__":
    main()
