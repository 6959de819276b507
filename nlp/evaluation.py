"""Precision, recall and F1 per task for labelled posts (``crmsphere nlp eval`` and the tests).

A labelled file is JSON lines, one post each::

    {"id": "l1", "text": "...", "source": "x", "author": {"handle": "...", "name": "..."},
     "customers": ["cus_1"],          # linking: every customer the post is by or about
     "sentiment": "negative",         # positive | negative | neutral
     "score": -0.6,                   # optional gold score in [-1, 1] (Pearson r)
     "intent": "complaint",           # complaint | question | praise | idea | other
     "topics": ["billing"],           # taxonomy keys
     "language": "en"}                # and any other NLP signal by its name (nlp/signals/)

Every label is optional; a task is scored on the lines that carry its label. A
customer counts as linked when a link reaches the review threshold (queued links
are not yet links).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from domain import Analysis
from nlp.signals import signals


@dataclass(slots=True)
class Counts:
    """True positives, false positives and false negatives of one task or class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        """Count one case's sets."""
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class TaskScore:
    """A task's micro counts, per-class counts (classification tasks) and case count."""

    name: str
    cases: int = 0
    micro: Counts = field(default_factory=Counts)
    classes: dict[str, Counts] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        """Mean F1 over classes (the micro F1 for set tasks)."""
        if not self.classes:
            return self.micro.f1
        return sum(c.f1 for c in self.classes.values()) / len(self.classes)

    def line(self) -> str:
        """One printable summary line."""
        text = (f"{self.name:10} n={self.cases:<5} precision={self.micro.precision:.3f} "
                f"recall={self.micro.recall:.3f} f1={self.micro.f1:.3f}")
        if self.classes:
            text += f" macro_f1={self.macro_f1:.3f}"
        for key, value in self.extra.items():
            text += f" {key}={value:.3f}"
        return text


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Pearson correlation of two equally long sequences (0 when undefined)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def _classify(task: TaskScore, gold: str, predicted: str) -> None:
    task.cases += 1
    for label in (gold, predicted):
        task.classes.setdefault(label, Counts())
    task.micro.add({gold}, {predicted})
    task.classes[gold].add({gold}, {predicted} if predicted == gold else set())
    if predicted != gold:
        task.classes[predicted].fp += 1


def evaluate(cases: Iterable[dict], analyses: Iterable[Analysis],
             review_below: float = 0.6) -> dict[str, TaskScore]:
    """Scores per task (linking, topics, then each NLP signal: sentiment, intent, language, ...)
    of analyses against labels; a signal's label is the case's key of the signal's name."""
    registered = signals()
    tasks = {name: TaskScore(name) for name in ("linking", "topics", *(s.name for s in registered))}
    gold_scores: list[float] = []
    pred_scores: list[float] = []
    for case, analysis in zip(cases, analyses):
        if "customers" in case:
            linked = {k.customer_id for k in analysis.links if k.confidence >= review_below}
            tasks["linking"].cases += 1
            tasks["linking"].micro.add(set(case["customers"]), linked)
        if "topics" in case:
            tasks["topics"].cases += 1
            tasks["topics"].micro.add(set(case["topics"]), set(analysis.topics))
        for signal in registered:
            if signal.name in case:
                _classify(tasks[signal.name], case[signal.name],
                          signal.value_of(analysis) or signal.default)
        if "score" in case and "sentiment" in case:  # the sentiment score beside its label
            gold_scores.append(float(case["score"]))
            pred_scores.append(analysis.sentiment)
    if gold_scores:
        tasks["sentiment"].extra["pearson_r"] = pearson(gold_scores, pred_scores)
    return {name: t for name, t in tasks.items() if t.cases}
