"""The customer registry's CSV format (stable: other tools write it).

Header: ``id,name,kind,company,segment,annual_revenue,emails,domains,aliases,
reddit,x,mastodon,bluesky,hackernews``.  ``kind`` is ``person`` or ``company``;
multi-valued cells are separated by ``;``; handles are written without ``@``.
A missing required column rejects the whole file before anything is written;
a bad row is reported with its line number and the other rows are kept.  Text is held to
``domain.text_edge``: a NUL or an encoded lone surrogate (as some exporters write a cut
emoji) becomes U+FFFD and the row is kept; a file that is not UTF-8 at all is refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from domain import PLATFORMS, Customer, Identity, Rejection, normalise_handle
from domain.errors import BadInput, BadItem
from domain.text_edge import INT_MAX, third_party_text

COLUMNS: tuple[str, ...] = (
    "id", "name", "kind", "company", "segment", "annual_revenue",
    "emails", "domains", "aliases", *PLATFORMS,
)
REQUIRED: tuple[str, ...] = ("id", "name", "kind")
MAX_CELL = 2_000


def _multi(cell: str | None) -> tuple[str, ...]:
    if not cell:
        return ()  # most cells of most rows (a customer has a handle on one or two platforms)
    if ";" not in cell:
        value = cell.strip()
        return (value,) if value else ()
    return tuple(v.strip() for v in cell.split(";") if v.strip())


def _revenue(cell: str | None) -> int | None:
    cell = (cell or "").strip().replace(",", "").replace("_", "")
    if not cell:
        return None
    try:
        value = int(float(cell)) if "." in cell or "e" in cell.lower() else int(cell)
    except (ValueError, OverflowError):
        raise BadItem(f"annual_revenue {cell[:30]!r} is not a number") from None
    if value < 0:
        raise BadItem(f"annual_revenue {value} is negative")
    if value > INT_MAX:
        raise BadItem(f"annual_revenue {cell[:30]!r} is beyond the 64-bit range")
    return value


def customer_from_row(row: dict[str, str | None]) -> Customer:
    """A ``Customer`` from one CSV row; ``BadItem`` names the bad cell."""
    for column, cell in row.items():
        if column is None:
            raise BadItem("more cells than columns")
        if cell is not None and len(cell) > MAX_CELL:
            raise BadItem(f"{column} is longer than {MAX_CELL} characters")
    cid = (row.get("id") or "").strip()
    name = (row.get("name") or "").strip()
    kind = (row.get("kind") or "").strip().lower()
    if not cid:
        raise BadItem("id is empty")
    if not name:
        raise BadItem("name is empty")
    if kind not in ("person", "company"):
        raise BadItem(f"kind {kind!r} is not 'person' or 'company'")
    identities = tuple(
        Identity(platform, handle)
        for platform in PLATFORMS if row.get(platform)
        for handle in map(normalise_handle, _multi(row.get(platform)))
        if handle
    )
    return Customer(
        id=cid, name=name, kind=kind,  # type: ignore[arg-type]
        company=(row.get("company") or "").strip() or None,
        segment=(row.get("segment") or "").strip().lower() or None,
        annual_revenue=_revenue(row.get("annual_revenue")),
        emails=tuple(e.lower() for e in _multi(row.get("emails"))),
        domains=tuple(d.lower().lstrip("@") for d in _multi(row.get("domains"))),
        aliases=_multi(row.get("aliases")),
        identities=identities,
    )


def parse_customers(lines: Iterable[str], name: str = "<csv>") -> tuple[list[Customer], list[Rejection]]:
    """Customers and rejected rows from CSV text; ``BadInput`` if a required column is missing."""
    reader = csv.DictReader(lines)
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise BadInput(f"{name}:{reader.line_num + 1}: the header is not valid CSV ({exc})") from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        # Excel saves "CSV" with semicolons where the decimal mark is a comma (de, fr, nl...).
        semicolons = (" (the header is separated by ';', as Excel writes CSV in many locales: "
                      "save it with ',' separators)" if len(header) == 1 and ";" in header[0] else "")
        raise BadInput(
            f"{name}: missing required column {', '.join(repr(c) for c in missing)}{semicolons}",
            {"missing_columns": missing, "expected_header": ",".join(COLUMNS)})
    reader.fieldnames = header
    customers: list[Customer] = []
    rejected: list[Rejection] = []
    seen: set[str] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A cell past the csv module's limit (a pasted log or a mail thread): that row
            # only.  The reader has consumed the row's line and goes on with the next one; its
            # line count still stands at the row before.
            rejected.append(Rejection(f"{name}:{reader.line_num + 1}", f"not valid CSV ({exc})"))
            continue
        where = f"{name}:{reader.line_num}"
        try:
            customer = customer_from_row(row)
        except BadItem as exc:
            rejected.append(Rejection(where, exc.reason))
            continue
        if customer.id in seen:
            rejected.append(Rejection(where, f"id {customer.id!r} appears twice in the file"))
            continue
        seen.add(customer.id)
        customers.append(customer)
    return customers, rejected


def read_customers_csv(path: Path) -> tuple[list[Customer], list[Rejection]]:
    """Parse a customers CSV file (UTF-8, with or without a byte-order mark)."""
    try:
        # surrogatepass: an encoded surrogate decodes, and third_party_text repairs it.
        text = third_party_text(path.read_bytes().decode("utf-8-sig", "surrogatepass"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_customers(io.StringIO(text, newline=""), str(path))
