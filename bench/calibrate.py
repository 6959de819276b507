"""Fits the customer-linking confidences (not a test): a link at confidence c should be right c of the time.

    .venv/bin/python bench/calibrate.py            # fit, print, write nlp/calibration.py
    .venv/bin/python bench/calibrate.py --check    # exit 1 when nlp/calibration.py differs
    .venv/bin/python bench/calibrate.py --regenerate   # write the generated set again (Faker)

Data, all committed: the hand-labelled set ``tests/nlp/data/linking.jsonl`` (with its
registry) and a generated set in ``bench/data/`` made by ``bench/linking_eval.py``'s Faker
generator (a registry of 100,000 and 6,000 posts written around names the ways people write
them, or naming no customer: public figures, names inside longer names, everyday words).

Each case of the table (a rule, or a rule's weaker case such as "ambiguous_capitalised")
gets the share of right links among the links it gave, as the strongest link of a customer
in a post: (right + 10 x starting value) / (links + 10), so a case seen a few times stays
near its hand-set starting value (``START``), and one never seen keeps it. The starting
values, not the shipped ones, seed every fit: the same data always gives the same table.
Which case gave a link is read from its confidence: the fit runs the linker with each case's
starting value nudged by a millionth times its rank, so no two are equal.
Printed: per case links, right, fitted value; then confidence bins → links and share right
with the shipped table.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

ROOT = _HERE.parent
LABELLED = ROOT / "tests" / "nlp" / "data"
GENERATED = _HERE / "data"
TABLE = ROOT / "nlp" / "calibration.py"
PRIOR_WEIGHT = 10
REGISTRY_SIZE, POSTS, SEED = 100_000, 6_000, 7  # as bench/linking_eval.py, another seed

#: The hand-set values every fit starts from (what the linker shipped before fitting).
START = {
    "author_handle": 0.98, "email": 0.95, "mentioned_handle": 0.9, "company_name": 0.85,
    "mail_domain": 0.8, "domain": 0.75, "person_name": 0.75, "alias": 0.75, "employer": 0.65,
    "handle_other_platform": 0.55, "author_name": 0.5, "author_other_platform": 0.4,
    "ambiguous_capitalised": 0.45, "lowercase_with_context": 0.5,
    "lowercase_word": 0.35, "shared_name": 0.45, "fuzzy": 0.62, "fuzzy_weak": 0.5, "hashtag": 0.8,
    "hashtag_one_word": 0.7, "spelt_handle": 0.7, "spelt_domain": 0.7, "spelt_one_word": 0.55,
    "common_person_name": 0.55, "lowercase_name_with_cue": 0.5, "common_person_hashtag_with_cue": 0.5,
    "shared_name_picked": 0.75,
    # What "ambiguous_with_context" (start 0.7) held, by the support: a legal form right
    # after, or customer-service words (its generic business words joined
    # "ambiguous_capitalised"); new cases, so no prior knowledge.
    "ambiguous_with_legal_form": 0.5, "ambiguous_with_service_cue": 0.5,
}


def regenerate() -> None:
    """Write the generated registry and posts with ``bench/linking_eval.py``'s generator."""
    spec = importlib.util.spec_from_file_location("linking_eval", _HERE / "linking_eval.py")
    assert spec and spec.loader
    linking_eval = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(linking_eval)
    customers, words = linking_eval.make_registry(REGISTRY_SIZE, SEED)
    posts = linking_eval.make_posts(customers, words, POSTS, SEED + 1)
    GENERATED.mkdir(exist_ok=True)
    with (GENERATED / "calibration_customers.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(("id", "name", "kind", "aliases", "x"))
        for c in customers:
            out.writerow((c.id, c.name, c.kind, ";".join(c.aliases),
                          ";".join(i.handle for i in c.identities if i.platform == "x")))
    rng = random.Random(SEED)
    with (GENERATED / "calibration_posts.jsonl").open("w", encoding="utf-8") as f:
        for i, p in enumerate(posts):
            f.write(json.dumps({"id": f"g{i:05d}", "kind": p["kind"], "text": p["text"], "source": "x",
                                "author": {"handle": f"user{rng.randrange(100_000)}"},
                                "customers": p["customers"]}, ensure_ascii=False) + "\n")


def _sets() -> list[tuple[Path, Path]]:
    return [(LABELLED / "customers.csv", LABELLED / "linking.jsonl"),
            (GENERATED / "calibration_customers.csv", GENERATED / "calibration_posts.jsonl")]


def strongest_links(registry: Path, posts: Path) -> list[tuple[float, bool]]:
    """(confidence, right) of each customer's strongest link in each post of one set."""
    from collectors.customers_csv import read_customers_csv
    from crmsphere.analyze_cli import parse_line
    from nlp.pipeline import analyse_posts, build_pipeline

    customers, rejected = read_customers_csv(registry)
    assert not rejected, rejected
    lines = posts.read_text(encoding="utf-8").splitlines()
    gold = [set(json.loads(line)["customers"]) for line in lines]
    analyses = analyse_posts(build_pipeline(customers), [parse_line(line)[1] for line in lines])
    out = []
    for right, analysis in zip(gold, analyses):
        best: dict[str, float] = {}
        for link in analysis.links:
            best[link.customer_id] = max(best.get(link.customer_id, 0.0), link.confidence)
        out.extend((confidence, cid in right) for cid, confidence in best.items())
    return out


def observe() -> dict[str, list[int]]:
    """Case → [links, right] on the committed sets, the linker running on probe values."""
    from nlp.calibration import CONFIDENCE

    probe = {key: START[key] + (rank + 1) / 1_000_000 for rank, key in enumerate(START)}
    shipped = dict(CONFIDENCE)
    CONFIDENCE.update(probe)  # the linker reads this very dict
    try:
        observed = [link for registry, posts in _sets() for link in strongest_links(registry, posts)]
    finally:
        CONFIDENCE.clear()
        CONFIDENCE.update(shipped)
    case_of = {value: key for key, value in probe.items()}
    counts: dict[str, list[int]] = {key: [0, 0] for key in START}
    for confidence, right in observed:
        key = case_of.get(confidence)
        if key is not None:  # a confidence capped for a rejection: no case of its own
            counts[key][0] += 1
            counts[key][1] += right
    return counts


def fit(counts: dict[str, list[int]]) -> dict[str, float]:
    """Fitted confidence per case: the share right, drawn towards the starting value when seen rarely."""
    return {key: min(0.99, max(0.05, round((right + PRIOR_WEIGHT * START[key]) / (n + PRIOR_WEIGHT), 2)))
            for key, (n, right) in counts.items()}


def render(fitted: dict[str, float], counts: dict[str, list[int]]) -> str:
    """The text of ``nlp/calibration.py``."""
    rows = "\n".join(f"    {json.dumps(key)}: {value},  # {counts[key][0]} links, {counts[key][1]} right"
                     for key, value in fitted.items())
    return f'''"""Confidence of each customer-linking rule and case: the share of its links that were right.

Written by ``bench/calibrate.py`` from the labelled and generated sets (see there); do not
edit by hand: ``tests/nlp/test_calibration.py`` checks this table against the script's
output. A link at confidence c was right about c of the time on those sets, so
``nlp.review_below`` is the share right under which a link waits for a manager.
"""

CONFIDENCE: dict[str, float] = {{
{rows}
}}
'''


def bins(observed: list[tuple[float, bool]]) -> list[tuple[str, int, float, float]]:
    """(bin, links, mean confidence, share right) per tenth of confidence."""
    groups: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for confidence, right in observed:
        groups[min(9, int(confidence * 10))].append((confidence, right))
    return [(f"{b / 10:.1f}-{(b + 1) / 10:.1f}", len(g), sum(c for c, _ in g) / len(g),
             sum(r for _, r in g) / len(g)) for b, g in sorted(groups.items())]


def main() -> None:
    """Fit, print and write (or check) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the shipped table")
    parser.add_argument("--regenerate", action="store_true", help="write the generated set again first")
    args = parser.parse_args()
    if args.regenerate:
        regenerate()
    counts = observe()
    fitted = fit(counts)
    text = render(fitted, counts)
    if args.check:
        same = TABLE.read_text(encoding="utf-8") == text
        print("nlp/calibration.py matches the fit" if same else "nlp/calibration.py differs from the fit")
        raise SystemExit(0 if same else 1)
    print("case                      links  right  start  fitted")
    for key, (n, right) in counts.items():
        print(f"  {key:24} {n:6} {right:6}  {START[key]:.2f}   {fitted[key]:.2f}")
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE.relative_to(ROOT)}")
    print_bins("the starting values", START)
    print_bins("the fitted values", fitted)


def print_bins(title: str, table: dict[str, float]) -> None:
    """The calibration table with ``table``'s confidences: bins → links, mean confidence, share right."""
    from nlp.calibration import CONFIDENCE

    shipped = dict(CONFIDENCE)
    CONFIDENCE.update(table)
    try:
        observed = [link for registry, posts in _sets() for link in strongest_links(registry, posts)]
    finally:
        CONFIDENCE.update(shipped)
    print(f"\ncalibration with {title}: confidence bin, links, mean confidence, share right")
    for label, n, mean, right in bins(observed):
        print(f"  {label}  {n:6}  {mean:5.2f}  {right:5.2f}")


if __name__ == "__main__":
    main()
