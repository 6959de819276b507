"""``crmsphere nlp train [FILE.jsonl] [--from-store]``: train the optional topic model (see ``nlp.textcat``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from config.settings import Settings
from domain.errors import BadInput
from nlp.textcat import label_examples, read_examples, train_textcat
from nlp.topics import load_taxonomy


async def _store_examples(settings: Settings, keys: list[str]) -> list[tuple[str, frozenset[str]]]:
    """Managers' topic labels in the store as training examples."""
    from storage import open_store

    store = await open_store(settings.store.url)
    try:
        rows = await store.topic_label_examples()
    finally:
        await store.close()
    examples, dropped = label_examples(rows, keys)
    if dropped:
        print(f"crmsphere: {dropped} labelled topic(s) no longer in the taxonomy were left out",
              file=sys.stderr)
    return examples


async def run_train(settings: Settings, path: Path | None, out: Path | None, epochs: int,
                    topics_file: Path | None = None, *, from_store: bool = False) -> int:
    """Train from a labelled file and/or the store's labels, save under ``out``
    (default ``[nlp] model_dir``), print a summary."""
    if path is None and not from_store:
        raise BadInput("nlp train needs a labelled FILE.jsonl, --from-store, or both")
    taxonomy = load_taxonomy(topics_file or settings.nlp.topics_file)
    keys = [t.key for t in taxonomy]
    examples = read_examples(path, keys, alone=not from_store) if path is not None else []
    from_labels = await _store_examples(settings, keys) if from_store else []
    examples += from_labels
    if len(examples) < 2:
        raise BadInput(f"at least two labelled posts are needed to train; found {len(examples)} "
                       f"({len(from_labels)} labelled in the store)")
    target = out or Path(settings.nlp.model_dir)
    # Training is CPU work: off the event loop, like every other NLP call.
    report = await asyncio.get_running_loop().run_in_executor(
        None, train_textcat, examples, keys, target, epochs)
    print(f"trained a topic model on {report.examples} posts ({len(from_labels)} labelled in the store), "
          f"{len(report.labels)} topics, {report.epochs} epochs (final loss {report.final_loss}); "
          f"saved in {report.path}")
    return 0
