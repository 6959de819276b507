"""The SOQL a fake Salesforce understands: what the connector sends, read properly.

A field list, one object, a WHERE of comparisons joined by AND/OR with parentheses,
ORDER BY (ASC/DESC, several fields) and LIMIT; anything else is ``ValueError``
(answered as ``MALFORMED_QUERY``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

TOKEN = re.compile(r"\s*(?:(?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))"
                   r"|(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>!=|>=|<=|[=<>(),])"
                   r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))")


def parse_soql(soql: str) -> dict[str, Any]:
    """``{"fields","from","where","order","limit"}`` of a SOQL SELECT, or ``ValueError``."""
    tokens, pos = [], 0
    while pos < len(soql.rstrip()):
        match = TOKEN.match(soql, pos)
        if not match:
            raise ValueError(f"unexpected token at: {soql[pos:pos + 20]!r}")
        kind = match.lastgroup
        text = match.group(kind)  # type: ignore[arg-type]
        tokens.append((kind, text))
        pos = match.end()
    reader = _Reader(tokens)
    reader.expect_word("SELECT")
    fields = [reader.take("word")]
    while reader.accept("op", ","):
        fields.append(reader.take("word"))
    reader.expect_word("FROM")
    query: dict[str, Any] = {"fields": fields, "from": reader.take("word"), "where": None,
                             "order": [], "limit": None}
    if reader.accept_word("WHERE"):
        query["where"] = reader.disjunction()
    if reader.accept_word("ORDER"):
        reader.expect_word("BY")
        while True:
            name = reader.take("word")
            descending = reader.accept_word("DESC")
            if not descending:
                reader.accept_word("ASC")
            query["order"].append((name, descending))
            if not reader.accept("op", ","):
                break
    if reader.accept_word("LIMIT"):
        query["limit"] = int(reader.take("num"))
    if reader.pos != len(tokens):
        raise ValueError(f"unexpected token {tokens[reader.pos][1]!r}")
    return query


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens, self.pos = tokens, 0

    def accept(self, kind: str, text: str | None = None) -> str | None:
        if self.pos < len(self.tokens):
            k, t = self.tokens[self.pos]
            if k == kind and (text is None or t.upper() == text.upper()):
                self.pos += 1
                return t
        return None

    def accept_word(self, word: str) -> bool:
        return self.accept("word", word) is not None

    def take(self, kind: str) -> str:
        found = self.accept(kind)
        if found is None:
            raise ValueError(f"expected {kind} at token {self.pos}")
        return found

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise ValueError(f"expected {word} at token {self.pos}")

    def disjunction(self) -> Any:
        terms = [self.conjunction()]
        while self.accept_word("OR"):
            terms.append(self.conjunction())
        return ("or", terms)

    def conjunction(self) -> Any:
        factors = [self.factor()]
        while self.accept_word("AND"):
            factors.append(self.factor())
        return ("and", factors)

    def factor(self) -> Any:
        if self.accept("op", "("):
            inner = self.disjunction()
            self.take("op")
            return inner
        name, op = self.take("word"), self.take("op")
        for kind in ("dt", "str", "num", "word"):
            value = self.accept(kind)
            if value is not None:
                return ("cmp", name, op, _literal(kind, value))
        raise ValueError(f"expected a value after {name} {op}")


def _literal(kind: str, text: str) -> Any:
    if kind == "dt":
        return datetime.fromisoformat(text)
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if kind == "num":
        return float(text)
    return {"true": True, "false": False, "null": None}[text.lower()]


def holds(node: Any, record: dict[str, Any]) -> bool:
    """Whether ``record`` meets a parsed WHERE clause."""
    kind = node[0]
    if kind == "or":
        return any(holds(n, record) for n in node[1])
    if kind == "and":
        return all(holds(n, record) for n in node[1])
    _, name, op, value = node
    field = record.get(name)
    if isinstance(value, datetime) and isinstance(field, str):
        field = datetime.fromisoformat(field)
    if op in ("=", "!="):
        return (field == value) == (op == "=")
    if field is None or value is None:
        return False
    return {">": field > value, "<": field < value, ">=": field >= value, "<=": field <= value}[op]


def sort_key(value: Any) -> tuple[int, Any]:
    """A sort key for ORDER BY on one field."""
    # Salesforce sorts nulls first in ascending order.
    return (0, "") if value is None else (1, value)
