"""``crmsphere analyze`` (JSON lines in, analyses out) and ``crmsphere nlp eval``.

Contract of ``analyze`` (stable; other tools depend on it): each stdin line is
``{"id", "text", "source"?, "author"?: {"handle", "name"}}``; each stdout line is
``{"id", "customers": [{"id", "confidence", "evidence": [...]}], "topics": [...],
"sentiment": {"score", "label"}, "intent", "language"}`` in input order (plus the extra
keys ``flags``, ``topic_evidence``: ``[{"topic", "rule", "phrase", "span"}]``, and one per NLP
signal declared since, by its name). A line that cannot be read gives ``{"id": null, "error": "..."}`` and the rest go on.
"""

from __future__ import annotations

import json
import select
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from spacy.language import Language

from collectors.customers_csv import read_customers_csv
from config.settings import Settings
from domain import Analysis, Author, Customer, LinkNegative, RawPost, utcnow
from domain.errors import BadInput
from nlp.evaluation import evaluate
from nlp.signals import signals
from nlp.pipeline import StageOptions, analyse_posts, build_pipeline, collection_paused
from nlp.topics import load_taxonomy

BATCH = 256


async def _registry(settings: Settings, customers_csv: Path | None
                    ) -> tuple[list[Customer], list[LinkNegative], list[tuple[str, str]]]:
    """Customers, managers' rejections, and (where, why) of each customers-file row refused."""
    if customers_csv is not None:
        customers, rejected = read_customers_csv(customers_csv)
        for r in rejected:
            print(f"crmsphere: customers {r.where}: {r.reason}", file=sys.stderr)
        return list(customers), [], [(r.where, r.reason) for r in rejected]
    from crmsphere.refused_aliases import gazetteer_registry
    from storage import open_store

    store = await open_store(settings.store.url)
    try:
        return await gazetteer_registry(store), await store.link_negatives(), []
    finally:
        await store.close()


def _options(settings: Settings, topics_file: Path | None) -> StageOptions:
    taxonomy = load_taxonomy(topics_file or settings.nlp.topics_file)
    return StageOptions.from_settings(settings.nlp, taxonomy)


def parse_line(line: str) -> tuple[Any, RawPost]:
    """The id and post of one input line; ``BadInput`` says what is wrong."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise BadInput(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInput("not a JSON object")
    if "id" not in data or not isinstance(data["id"], (str, int)) or isinstance(data["id"], bool):
        raise BadInput("field 'id' must be a string or an integer")
    text = data.get("text")
    if not isinstance(text, str):
        raise BadInput("field 'text' must be a string")
    source = data.get("source") or ""
    if not isinstance(source, str):
        raise BadInput("field 'source' must be a string")
    author = data.get("author") or {}
    if not isinstance(author, dict):
        raise BadInput("field 'author' must be an object with 'handle' and 'name'")
    handle, name = author.get("handle") or "", author.get("name")
    if not isinstance(handle, str) or (name is not None and not isinstance(name, str)):
        raise BadInput("fields 'author.handle' and 'author.name' must be strings")
    return data["id"], RawPost(source, str(data["id"]), Author(handle, name), text, utcnow())


def analysis_json(post_id: Any, a: Analysis) -> dict[str, Any]:
    """One output line: customers with confidence and evidence, topics, sentiment, intent, language."""
    customers: dict[str, dict[str, Any]] = {}
    for k in a.links:  # strongest first, so the first link of a customer sets its confidence
        entry = customers.setdefault(k.customer_id, {
            "id": k.customer_id, "confidence": round(k.confidence, 3),
            "review": k.status == "pending", "evidence": []})
        entry["evidence"].append({"rule": k.rule, "text": k.evidence,
                                  "span": [k.start, k.end] if k.start is not None else None})
    return {"id": post_id, "customers": list(customers.values()), "topics": list(a.topics),
            # Each NLP signal under its name (nlp/signals/): sentiment, intent, language, ...
            **{s.name: s.json_of(a) for s in signals()}, "flags": list(a.flags),
            # Same shape as the API's mention JSON: {topic, rule, phrase, span}.
            "topic_evidence": [{"topic": e.topic, "rule": e.rule, "phrase": e.phrase,
                                "span": [e.start, e.end] if e.start is not None else None}
                               for e in a.topic_evidence]}


def _batches(stream: IO[str]) -> Iterator[list[str]]:
    """Lines in batches; a batch ends early when no more input is waiting (interactive use)."""
    batch: list[str] = []
    for line in stream:
        batch.append(line)
        if len(batch) >= BATCH or not _more_waiting(stream):
            yield batch
            batch = []
    if batch:
        yield batch


def _more_waiting(stream: IO[str]) -> bool:
    try:
        ready, _, _ = select.select([stream], [], [], 0)
    except (ValueError, OSError, TypeError):
        return True  # not a selectable stream (a file object in tests): just fill the batch
    return bool(ready)


def _cached_pipeline(settings: Settings, customers_csv: Path, options: StageOptions
                     ) -> tuple[Language | None, Callable[[Language, list[tuple[str, str]]], None]]:
    """The pipeline with the gazetteer saved for this registry file, if there is one (else
    None), and what saves a freshly built one (see ``nlp.gazetteer_cache``)."""
    from nlp.gazetteer_cache import GazetteerCache, cache_key, linker_state, restore_linker

    def no_save(nlp: Language, rejected: list[tuple[str, str]]) -> None:
        return None

    folder = settings.nlp.gazetteer_cache_dir
    if not folder or "customer_linker" not in options.components:
        return None, no_save
    try:
        registry = customers_csv.read_bytes()
    except OSError:
        return None, no_save  # read_customers_csv says what is wrong with the file
    cache = GazetteerCache(Path(folder), keep=settings.nlp.gazetteer_cache_builds)
    key = cache_key(registry, options.languages)
    saved = cache.load(key)
    if saved is None:
        def save(nlp: Language, rejected: list[tuple[str, str]]) -> None:
            cache.save(key, {"linker": linker_state(nlp), "rejected": rejected})
        return None, save
    for where, reason in saved["rejected"]:
        print(f"crmsphere: customers {where}: {reason}", file=sys.stderr)
    nlp = build_pipeline((), options=options)
    restore_linker(nlp, saved["linker"])
    return nlp, no_save


async def run_analyze(settings: Settings, customers_csv: Path | None, topics_file: Path | None,
                      stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> int:
    """Analyse JSON lines from ``stdin`` onto ``stdout``; returns the exit code."""
    options = _options(settings, topics_file)
    nlp, save = (None, None) if customers_csv is None else _cached_pipeline(settings, customers_csv, options)
    rejected: list[tuple[str, str]] = []
    if nlp is None:
        with collection_paused():  # 100k customers are 1.5 million objects that all stay
            customers, negatives, rejected = await _registry(settings, customers_csv)
        nlp = build_pipeline(customers, options=options, negatives=negatives)
    else:
        save = None
    for batch in _batches(stdin):
        parsed: list[tuple[Any, RawPost] | str] = []
        for line in batch:
            if not line.strip():
                continue
            try:
                parsed.append(parse_line(line))
            except BadInput as exc:
                parsed.append(str(exc))
        posts = [p[1] for p in parsed if isinstance(p, tuple)]
        analyses = iter(analyse_posts(nlp, posts, settings.nlp.batch_size, options))
        for item in parsed:
            out = ({"id": None, "error": item} if isinstance(item, str)
                   else analysis_json(item[0], next(analyses)))
            stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    if save is not None:
        save(nlp, rejected)  # after the last line: whoever reads the output does not wait for it
    return 0


async def run_eval(settings: Settings, path: Path, customers_csv: Path | None,
                   topics_file: Path | None) -> int:
    """Print precision, recall and F1 per task for a labelled JSON-lines file."""
    customers, negatives, _ = await _registry(settings, customers_csv)
    options = _options(settings, topics_file)
    nlp = build_pipeline(customers, options=options, negatives=negatives)
    cases, posts = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            _, post = parse_line(line)
        except BadInput as exc:
            raise BadInput(f"{path}:{number}: {exc}") from None
        cases.append(json.loads(line))
        posts.append(post)
    analyses = analyse_posts(nlp, posts, settings.nlp.batch_size, options)
    for task in evaluate(cases, analyses, options.review_below).values():
        print(task.line())
    return 0
