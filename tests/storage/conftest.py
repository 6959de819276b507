"""Storage test set-up: the ``mongoeco_difference`` marker."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker."""
    config.addinivalue_line(
        "markers",
        "mongoeco_difference(reason): mongoeco behaves unlike real MongoDB here; the code is "
        "written for real MongoDB, so the test is expected to fail on mongoeco only")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """On mongoeco (no $MONGODB_URI), a test marked ``mongoeco_difference`` may fail."""
    marker = item.get_closest_marker("mongoeco_difference")
    if marker is not None and not os.environ.get("MONGODB_URI"):
        reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
        item.add_marker(pytest.mark.xfail(reason=f"mongoeco difference: {reason}", strict=False))
