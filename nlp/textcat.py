"""An optional trained topic model: spaCy ``textcat_multilabel`` (bag of words) from labelled posts.

``crmsphere nlp train FILE.jsonl`` trains it from lines ``{"text": "...", "topics": ["billing"]}``
(topics are taxonomy keys; an empty list is a post about none), and with ``--from-store``
also from the topic sets managers gave mentions (``POST /api/mentions/{id}/topics``); it
saves the pipeline in ``[nlp] model_dir``. When that directory holds a model, ``build_pipeline`` adds its
``textcat_multilabel`` before the ``topic_tagger``, which then merges topics the model
scores at or above ``[nlp] model_threshold`` with the taxonomy's phrase topics (evidence
rule ``model``). Starts from ``spacy.blank("en")``: nothing is downloaded, ever.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy.util import minibatch

from domain.errors import BadInput

#: The name of the trained component inside the stage's pipeline.
COMPONENT = "topic_model"
_MODEL = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
          "no_output_layer": False}


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What training did."""

    examples: int
    labels: tuple[str, ...]
    epochs: int
    final_loss: float
    path: Path


def read_examples(path: Path, known: Iterable[str], alone: bool = True) -> list[tuple[str, frozenset[str]]]:
    """``(text, topics)`` of a labelled JSONL file; ``BadInput`` names the first bad line.

    When the file is ``alone`` (no other examples join it), it must hold two posts at least.
    """
    known = frozenset(known)
    out: list[tuple[str, frozenset[str]]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{path}:{n}: not JSON ({exc})") from None
        text, topics = (row.get("text"), row.get("topics")) if isinstance(row, dict) else (None, None)
        if not isinstance(text, str) or not text.strip():
            raise BadInput(f"{path}:{n}: 'text' must be a non-empty string")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise BadInput(f"{path}:{n}: 'topics' must be a list of topic keys")
        unknown = sorted(set(topics) - known)
        if unknown:
            raise BadInput(f"{path}:{n}: topics not in the taxonomy: {', '.join(unknown)}")
        out.append((text, frozenset(topics)))
    if alone and len(out) < 2:
        raise BadInput(f"{path}: at least two labelled posts are needed to train")
    return out


def label_examples(rows: Iterable[tuple[str, Sequence[str]]], known: Iterable[str]
                   ) -> tuple[list[tuple[str, frozenset[str]]], int]:
    """Training examples from managers' labels, and how many topic keys were dropped.

    A key the taxonomy no longer has is dropped (the rest of that label still teaches);
    posts with no text are skipped.
    """
    known = frozenset(known)
    out: list[tuple[str, frozenset[str]]] = []
    dropped = 0
    for text, topics in rows:
        if not text.strip():
            continue
        keep = frozenset(t for t in topics if t in known)
        dropped += len(set(topics)) - len(keep)
        out.append((text, keep))
    return out, dropped


def train_textcat(examples: Sequence[tuple[str, frozenset[str]]], labels: Sequence[str], out: Path,
                  epochs: int = 10, seed: int = 0) -> TrainReport:
    """Train a multi-label bag-of-words classifier and save it (a spaCy pipeline) in ``out``."""
    labels = tuple(sorted(set(labels)))
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": _MODEL})
    for label in labels:
        textcat.add_label(label)
    data = [Example.from_dict(nlp.make_doc(text), {"cats": {k: float(k in topics) for k in labels}})
            for text, topics in examples]
    spacy.util.fix_random_seed(seed)
    optimizer = nlp.initialize(lambda: data)
    rng = random.Random(seed)
    losses: dict[str, float] = {}
    for _ in range(epochs):
        rng.shuffle(data)
        losses = {}
        for batch in minibatch(data, size=8):
            nlp.update(batch, sgd=optimizer, losses=losses)
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    return TrainReport(len(data), labels, epochs, round(losses.get("textcat_multilabel", 0.0), 4), out)


def has_model(model_dir: str | Path | None) -> bool:
    """True when ``model_dir`` holds a saved pipeline with a ``textcat_multilabel``."""
    return bool(model_dir) and (Path(model_dir) / "textcat_multilabel").is_dir()


def add_topic_model(nlp: Language, model_dir: str | Path) -> None:
    """Copy the trained classifier from ``model_dir`` into ``nlp``, before the topic tagger."""
    trained = spacy.load(model_dir)
    where = {"before": "topic_tagger"} if "topic_tagger" in nlp.pipe_names else {}
    nlp.add_pipe("textcat_multilabel", name=COMPONENT, source=trained, **where)
