"""Ids written as text (a path, a form field, an event's subject): one reading for all.

A stored id is written in ASCII digits.  ``str.isdigit`` and ``int`` also take other
scripts' digits ("١٢" reads as 12: another address of row 12), "²" (which ``int`` refuses),
signs, spaces and underscores; and a number past 64 bits overflows the stores' drivers.
"""

from __future__ import annotations

#: Digits of the largest id any store hands out (2**63 - 1 has 19 digits).
MAX_ID_DIGITS = 18


def ascii_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()


def id_number(text: str) -> int | None:
    """The id ``text`` names, or None when it is not 1 to ``MAX_ID_DIGITS`` ASCII digits."""
    if ascii_digits(text) and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None
