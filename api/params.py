"""Reading query parameters into typed values, with errors that name the parameter."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from collectors.post_format import parse_time
from crmsphere.errors import BadInput, BadItem


def text_param(request: web.Request, name: str, max_len: int = 500) -> str | None:
    """A text parameter, or ``None`` when absent or empty."""
    value = request.query.get(name, "").strip()
    if len(value) > max_len:
        raise BadInput(f"parameter '{name}' is longer than {max_len} characters", {"parameter": name})
    return value or None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter within ``low..high``."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"parameter '{name}' must be an integer", {"parameter": name, "value": raw}) from None
    if not low <= value <= high:
        raise BadInput(f"parameter '{name}' must be between {low} and {high}",
                       {"parameter": name, "value": value})
    return value


def time_param(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 time parameter (a time without zone is UTC)."""
    raw = text_param(request, name, 64)
    if raw is None:
        return None
    try:
        return parse_time(raw, name)
    except BadItem as exc:
        raise BadInput(f"parameter {exc.reason.removeprefix('field ')}",
                       {"parameter": name, "value": raw}) from None


def choice_param(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    """A parameter that must be one of ``choices``, or ``None`` when absent."""
    value = text_param(request, name, 64)
    if value is not None and value not in choices:
        raise BadInput(f"parameter '{name}' must be one of {', '.join(choices)}",
                       {"parameter": name, "value": value})
    return value
