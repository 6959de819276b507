"""Signed requests: a timestamp that is not a finite number is refused, even when signed."""

from __future__ import annotations

import pytest

from domain.errors import AuthFailed
from domain.signing import SignedRequests, sign


@pytest.mark.parametrize("stamp", ["nan", "NaN", "inf", "-inf"])
def test_a_non_finite_timestamp_is_refused(stamp: str) -> None:
    checker = SignedRequests("s3cret", max_skew=300, clock=lambda: 1_800_000_000.0)
    body = b'{"posts": []}'
    with pytest.raises(AuthFailed, match="not a number"):
        checker.verify(stamp, sign("s3cret", stamp, body), body)


def test_a_fresh_signed_request_passes_once() -> None:
    checker = SignedRequests("s3cret", max_skew=300, clock=lambda: 1_800_000_000.0)
    body, stamp = b"{}", "1800000010"
    checker.verify(stamp, sign("s3cret", stamp, body), body)
    with pytest.raises(AuthFailed, match="already received"):
        checker.verify(stamp, sign("s3cret", stamp, body), body)
