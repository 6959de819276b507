"""No domain decision in storage (issue #15): storage's source spells no domain state — an
idea's or comment's approval, a customer link's status, a triage status, a routed item's
status, a delivery's, a reply's or a changelog entry's state — outside the row mappings
(storage/rows.py) and the migrations.  A store compares with the value a rule hands it
(``IdeaShown``, ``IdeaQuery``, ``LinkStanding``...) or with the name the domain declares
(``domain.forum.APPROVED``, ``domain.LINK_PENDING``...), so the rule lives in one place.

Read from the source with ``ast``: a string constant equal to a state, or a state quoted as
an SQL literal inside one (``status = 'pending'``), is a finding; docstrings and dict keys
(column and field names) are not.  ``ALLOWED`` lists the few places that may, each with its
reason; an entry no longer needed fails too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from domain import LINK_ACCEPTED, LINK_CONFIRMED, LINK_PENDING
from domain.changelog import ENTRY_STATES
from domain.forum import APPROVED, AWAITING_APPROVAL
from domain.replies import REPLY_STATES
from domain.routing import DELIVERY_STATES, ROUTED_STATUSES
from domain.triage import TRIAGE_STATUSES

CHECKOUT = Path(__file__).resolve().parent.parent

#: an idea's or comment's ``approval`` (domain/forum.py: Idea.approval)
APPROVALS = ("pending", "approved", "rejected")
#: a customer link's ``status`` (domain: CustomerLink.status)
LINK_STATES = ("accepted", "pending", "confirmed")

STATES = frozenset({*APPROVALS, *LINK_STATES, *TRIAGE_STATUSES, *ROUTED_STATUSES, *DELIVERY_STATES,
                    *REPLY_STATES, *ENTRY_STATES})

#: Not scanned: the row mappings (a missing column's default) and the migrations.
NOT_SCANNED = ("storage/rows.py", "storage/mongo/migrate.py", "storage/mongo/migrate_docs.py")

_DELIVERY_QUEUE = ("the delivery queue's own claim protocol (pending -> sending -> sent | dead, "
                   "exactly-once), not a rule a caller chooses")

#: (file, state) -> why it may be spelled there.
ALLOWED: dict[tuple[str, str], str] = {
    ("storage/mongo/mentions.py", "accepted"): "row mapping: a link stored before statuses reads as accepted",
    ("storage/sqlite/routing.py", "pending"): _DELIVERY_QUEUE,
    ("storage/sqlite/routing.py", "sending"): _DELIVERY_QUEUE,
    ("storage/sqlite/routing.py", "sent"): _DELIVERY_QUEUE,
    ("storage/sqlite/routing.py", "dead"): _DELIVERY_QUEUE,
    ("storage/sqlite/routing_rows.py", "pending"): _DELIVERY_QUEUE,
    ("storage/mongo/routing.py", "pending"): _DELIVERY_QUEUE,
    ("storage/mongo/routing.py", "sending"): _DELIVERY_QUEUE,
    ("storage/mongo/routing.py", "sent"): _DELIVERY_QUEUE,
    ("storage/mongo/routing.py", "dead"): _DELIVERY_QUEUE,
}

_SQL_LITERAL = re.compile(r"'(\w+)'")


def _states_spelled(source: str) -> list[tuple[int, str]]:
    """(line, state) of every state spelled in ``source`` outside docstrings and dict keys."""
    tree = ast.parse(source)
    ignored: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            ignored.update(id(key) for key in node.keys if key is not None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and node.body and isinstance(node.body[0], ast.Expr)
                and isinstance(node.body[0].value, ast.Constant)):
            ignored.add(id(node.body[0].value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in ignored:
            quoted = {word for word in _SQL_LITERAL.findall(node.value) if word in STATES}
            found += [(node.lineno, state) for state in sorted(quoted | ({node.value} & STATES))]
    return found


def _storage_findings() -> dict[tuple[str, str], list[int]]:
    findings: dict[tuple[str, str], list[int]] = {}
    for path in sorted((CHECKOUT / "storage").rglob("*.py")):
        name = path.relative_to(CHECKOUT).as_posix()
        if name in NOT_SCANNED:
            continue
        for line, state in _states_spelled(path.read_text(encoding="utf-8")):
            findings.setdefault((name, state), []).append(line)
    return findings


def test_storage_spells_no_domain_state() -> None:
    findings = _storage_findings()
    decided = [f"{name}:{','.join(map(str, sorted(lines)))} spells {state!r}"
               for (name, state), lines in sorted(findings.items()) if (name, state) not in ALLOWED]
    assert not decided, ("storage decides with a domain state; take it from the rule calling it or "
                         "the domain's name for it:\n" + "\n".join(decided))


def test_every_allowed_spelling_is_still_there() -> None:
    stale = sorted(set(ALLOWED) - set(_storage_findings()))
    assert not stale, f"no longer spelled there, drop from ALLOWED: {stale}"


def test_the_check_finds_a_state_in_sql_and_in_python() -> None:
    found = _states_spelled('"""A docstring: pending."""\n'
                            'SQL = "DELETE FROM mention_links WHERE status != \'confirmed\'"\n'
                            'FILTER = {"approval": "approved", "status": {"$ne": "pending"}}\n'
                            'ORDER = {"new": "created_at DESC"}\n')
    assert found == [(2, "confirmed"), (3, "approved"), (3, "pending")]


def test_the_checked_states_are_the_domains() -> None:
    assert {APPROVED, AWAITING_APPROVAL} <= set(APPROVALS)
    assert {LINK_ACCEPTED, LINK_PENDING, LINK_CONFIRMED} == set(LINK_STATES)
