"""Topic evidence as plain documents (a JSON column in SQLite, a sub-document in MongoDB)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain import TopicEvidence


def evidence_docs(evidence: Iterable[TopicEvidence]) -> list[dict[str, Any]]:
    """Evidence entries as dicts ``{topic, rule, phrase, start, end}``."""
    return [{"topic": e.topic, "rule": e.rule, "phrase": e.phrase, "start": e.start, "end": e.end}
            for e in evidence]


def evidence_from_docs(docs: Iterable[dict[str, Any]] | None) -> tuple[TopicEvidence, ...]:
    """Evidence entries from stored dicts (missing keys read as ``None``)."""
    return tuple(TopicEvidence(d["topic"], d["rule"], d.get("phrase"), d.get("start"), d.get("end"))
                 for d in docs or ())

