"""Every runtime dependency in pyproject.toml is imported by the product (a declared package
nobody imports is installed on every machine for nothing) and is explained in the README."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Declared for another package's sake, never imported by ours: why, as the README says.
USED_INDIRECTLY = {"chardet": "feedparser guesses a feed's encoding with it"}


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0] for spec in project["dependencies"]]


def _imported_top_levels() -> set[str]:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found: set[str] = set()
    for package in {p.split(".")[0] for p in packages}:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def test_every_declared_dependency_is_imported_by_the_product() -> None:
    by_module = importlib.metadata.packages_distributions()
    imported_distributions = {dist.lower() for module in _imported_top_levels()
                              for dist in by_module.get(module, ())}
    unused = [name for name in _declared()
              if name.lower() not in imported_distributions and name not in USED_INDIRECTLY]
    assert unused == [], f"declared in pyproject.toml but imported nowhere: {unused}"


def test_every_declared_dependency_is_explained_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text().lower()
    table = readme[readme.index("## dependencies and why"):]
    missing = [name for name in _declared()
               if f"| {name.lower()}" not in table and f", {name.lower()}" not in table]
    assert missing == [], f"not in the README's dependency table: {missing}"
