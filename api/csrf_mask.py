"""CSRF tokens masked per answer, so that a compressed page does not leak them (BREACH).

A page answer is gzipped (api/compression.py) and may reflect what a visitor typed (a search
box, an error).  An attacker who can make a victim's browser load the page many times and see
the answer sizes could learn a secret that stays the same in every answer, one guessed byte
at a time.  So the token is never written as it is: each time a page asks for it, a fresh
random pad as long as the token is drawn and the page gets ``pad`` followed by ``pad XOR
token`` (base64url).  Every answer carries a different string; the server takes the pad off
what comes back and compares the token in constant time (api/identity.py).  The same way
as Django's CSRF masking.
"""

from __future__ import annotations

import base64
import binascii
import secrets

#: Longest masked value looked at: a masked 100-character token, in base64 (no padding).
MAX_MASKED = 270


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def mask(token: str) -> str:
    """``token`` behind a fresh random pad: a different string on every call."""
    raw = token.encode()
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + _xor(pad, raw)).decode().rstrip("=")


def unmask(sent: str) -> str | None:
    """The token behind a masked value, or ``None`` when ``sent`` is not one (wrong alphabet,
    odd length, too long): a forged or cut value never unmasks to anything usable."""
    if not sent or len(sent) > MAX_MASKED:
        return None
    try:
        data = base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4))
    except (binascii.Error, ValueError):
        return None
    if not data or len(data) % 2:
        return None
    half = len(data) // 2
    try:
        return _xor(data[:half], data[half:]).decode("ascii")
    except UnicodeDecodeError:
        return None
