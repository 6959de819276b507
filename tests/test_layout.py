"""The layers import only downwards (DESIGN.md, "Layout"), read from the source with ``ast``.

The domain leaf (plain shared types and the rules every layer shares) imports nothing of
crmsphere; storage imports only the leaf, config and itself; nlp never touches storage or the
network layers; collectors know nothing of NLP, the community or HTTP views; community never
renders (never imports ``api``); and nothing below the composition root imports it.
Every import counts, including ones inside a function or under ``TYPE_CHECKING``: a lazy
import is still a dependency, only a hidden one.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parent.parent

#: Top-level packages of the service, as pyproject.toml ships them (tests and benchmarks,
#: which are not shipped, may import anything).
PACKAGES = tuple(sorted({
    name.split(".")[0]
    for name in tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))
    ["tool"]["setuptools"]["packages"]
}))

#: The domain leaf: shared types, errors, the text and signing rules. ``crmsphere`` itself
#: (its ``__init__``) holds only the version string and imports nothing.
LEAF = ("crmsphere", "domain", "domain.*", "domain.errors",
        "domain.text_edge", "domain.signing")

#: Layer → the layers it may import besides itself and the leaf.  "root" is the composition
#: root: every ``crmsphere`` module outside the leaf.  Layers absent here (api, crm, root) are
#: checked only by the ``FORBIDDEN`` rules below.
ALLOWED: dict[str, frozenset[str]] = {
    "leaf": frozenset(),
    "storage": frozenset({"config"}),
    "nlp": frozenset({"config"}),
    "config": frozenset(),
    "collectors": frozenset({"config"}),
    "community": frozenset({"config", "storage", "nlp", "collectors"}),
}

#: Layer → layers it must never import (for layers that may import most others).
FORBIDDEN: dict[str, frozenset[str]] = {
    "crm": frozenset({"api", "root"}),
}

#: Known upward imports not yet undone, each with why; a fixed one must leave this list.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("config.routing_checks", "community.channels"):
        "the routing settings validate channel names against the channel registry, whose "
        "channels validate their own settings with config.routing_checks (lazy import)",
    ("crm.cli", "crmsphere.runtime"):
        "the `crmsphere crm` command builds the runtime: a command belongs to the root",
}


@dataclass(frozen=True)
class Import:
    """One import statement's target, as the module that holds it sees it."""

    module: str
    target: str
    line: int


def module_name(path: Path, root: Path) -> str:
    """The dotted module name of ``path`` under ``root`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path) -> dict[str, Path]:
    """Every module of the service's packages under ``root``, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """The project modules ``name`` (at ``path``) imports: absolute, relative and submodules.

    ``from community import routing`` imports the module ``community.routing``, not
    just the package, so a name that is a known module counts as that module.
    """
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                drop = node.level - 1 if is_package else node.level
                anchor = anchor[: len(anchor) - drop] if drop else anchor
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] not in PACKAGES:
                continue
            targets = {f"{base}.{alias.name}" for alias in node.names} & known.keys()
            if len(targets) < len(node.names):
                targets.add(base)  # some names are attributes of ``base`` itself
            for target in sorted(targets):
                yield Import(name, target, node.lineno)


def layer_of(module: str) -> str:
    """The layer a project module belongs to: "leaf", "root" or its top-level package."""
    if any(fnmatch.fnmatchcase(module, pattern) for pattern in LEAF):
        return "leaf"
    top = module.split(".")[0]
    return "root" if top == "crmsphere" else top


def violations(root: Path) -> list[Import]:
    """Every import under ``root`` that goes against the layering, in file order."""
    known = project_modules(root)
    found = []
    for name, path in known.items():
        layer = layer_of(name)
        for imported in imports_of(name, path, known):
            target = layer_of(imported.target)
            if target in (layer, "leaf"):
                continue
            if layer in ALLOWED and target not in ALLOWED[layer]:
                found.append(imported)
            elif target in FORBIDDEN.get(layer, frozenset()):
                found.append(imported)
    return found


def report(found: list[Import]) -> str:
    """One line per violation: ``module → import (line n)``."""
    return "\n".join(f"{v.module} → {v.target} (line {v.line})" for v in found)


def test_no_package_imports_upwards():
    found = [v for v in violations(CHECKOUT) if (v.module, v.target) not in KNOWN_EXCEPTIONS]
    assert not found, "imports against the layering (DESIGN.md, Layout):\n" + report(found)


def test_every_known_exception_still_exists():
    # An exception that no longer happens must leave the list, so it cannot come back quietly.
    present = {(v.module, v.target) for v in violations(CHECKOUT)}
    stale = [pair for pair in KNOWN_EXCEPTIONS if pair not in present]
    assert not stale, f"fixed, remove from KNOWN_EXCEPTIONS: {stale}"


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small checkout with one clean module per layer."""
    for package in PACKAGES:
        write(tmp_path, f"{package}/__init__.py", "")
    write(tmp_path, "domain/__init__.py", "from dataclasses import dataclass\n")
    write(tmp_path, "domain/forum.py", "from domain import utcnow\n")
    write(tmp_path, "crmsphere/runtime.py", "import api.app\nimport storage\n")
    write(tmp_path, "community/routing.py", "from domain import Mention\n")
    write(tmp_path, "api/app.py", "from community import routing\n")
    write(tmp_path, "storage/ideas.py", "from . import db\nfrom config import settings\n")
    write(tmp_path, "storage/db.py", "from domain.errors import BadInput\n")
    return tmp_path


def test_clean_tree_has_no_violation(tree: Path):
    assert violations(tree) == []


@pytest.mark.parametrize(("relative", "text", "expected"), [
    # A storage module importing a type from the community (the routing types did this).
    ("storage/teams.py", "from community.routing import Team\n",
     "storage.teams → community.routing (line 1)"),
    # The leaf importing anything of ours, here through the package: a submodule import.
    ("domain/crm.py", "from storage import ideas\n",
     "domain.crm → storage.ideas (line 1)"),
    # A lazy import inside a function is still a dependency.
    ("nlp/topics.py", "def load():\n    import storage.db as db\n    return db\n",
     "nlp.topics → storage.db (line 2)"),
    # The community rendering: a relative import that climbs out of its package.
    ("community/ideas.py", "from ..api import app\n", "community.ideas → api.app (line 1)"),
    # A collector reaching into the composition root.
    ("collectors/rss.py", "from crmsphere.runtime import Runtime\n",
     "collectors.rss → crmsphere.runtime (line 1)"),
    ("crm/sync.py", "from api.app import build\n", "crm.sync → api.app (line 1)"),
    ("crm/outbound.py", "from crmsphere import runtime\n", "crm.outbound → crmsphere.runtime (line 1)"),
])
def test_each_upward_import_is_reported(tree: Path, relative: str, text: str, expected: str):
    write(tree, relative, text)
    assert report(violations(tree)) == expected


#: Rules written once in crm/ over the unit of work: no backend may hold a copy again.
RULES_OUT_OF_STORAGE = {
    "crm.people": ("record_people", "attach_person", "merge_people"),
    "crm.records": ("apply_crm_batch", "learned_identities"),
    "crm.link_decisions": ("confirm_link", "reject_link", "refuse_alias", "replace_links"),
}


@pytest.mark.parametrize("home", sorted(RULES_OUT_OF_STORAGE))
def test_people_and_crm_rules_live_in_crm_only(home: str):
    import importlib

    from storage.mongo.store import MongoStore
    from storage.sqlite.store import SqliteStore

    for name in RULES_OUT_OF_STORAGE[home]:
        assert callable(getattr(importlib.import_module(home), name))
        for backend in (SqliteStore, MongoStore):
            assert not hasattr(backend, name), f"{backend.__name__}.{name}: the rule is {home}.{name}"
