"""Forward-only schema migrations of the SQLite backend: ``migrations/NNNN_name.sql``.

Each file is applied once, in number order, inside one transaction with the row
that records its number in ``schema_version``.  Never edit a shipped migration:
add a new number.
"""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent.with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def load_migrations(folder: Path = MIGRATIONS_DIR) -> dict[int, str]:
    """The migration scripts by number; a repeated number is a packaging error."""
    found: dict[int, Path] = {}
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            number = int(match.group(1))
            if number in found:
                raise RuntimeError(f"two migrations numbered {number}: {found[number].name}, {path.name}")
            found[number] = path
    return {n: found[n].read_text(encoding="utf-8") for n in sorted(found)}


MIGRATIONS: dict[int, str] = load_migrations()
