"""Requests refused below the app (by aiohttp's HTTP parser) still get the JSON error shape,
and bytes that are not UTF-8 in a header reach no handler as lone surrogates.

A real ``crmsphere serve`` process, spoken to over raw sockets: these requests are what scanners
and broken clients really send, and no HTTP client library would send them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.helpers import wait_healthy_blocking
from tests.serve_helpers import free_port, start_serve, stop_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    home = tmp_path_factory.mktemp("served")
    port = free_port()
    config = home / "crmsphere.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{home / "crm.db"}"\n'
                      "[scheduler]\nenabled = false\n")
    log = home / "serve.log"
    proc = start_serve(config, home, log, "--port", str(port))
    try:
        wait_healthy_blocking(f"http://127.0.0.1:{port}", proc, log)
        yield port
    finally:
        code = stop_serve(proc)
    assert code == 0, log.read_text()[-2000:]


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``raw`` on a fresh connection; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(raw)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize("raw, says", [
    (b"GET /api/mentions?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "longer than"),
    (b"GET /api/ideas HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n", "longer than"),
    (b"GET /api/ideas?q=caf\xe9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "URL is not valid"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", "not a valid HTTP method"),
])
def test_requests_the_parser_refuses_answer_in_the_json_shape(served: int, raw: bytes,
                                                             says: str) -> None:
    status, headers, body = exchange(served, raw)
    assert status == 400 and headers["content-type"].startswith("application/json"), body[:200]
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and says in error["message"]
    assert b"aaaa" not in body and b"cccc" not in body  # what was sent is not echoed back


def test_a_header_that_is_not_utf8_is_not_a_500(served: int) -> None:
    # A bearer token of Latin-1 bytes (a broken client) decodes to lone surrogates in aiohttp.
    status, headers, body = exchange(
        served, b"GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Authorization: Bearer cst_caf\xe9\xed\xa0\xbd\r\n\r\n")
    assert status == 401 and headers["content-type"].startswith("application/json"), body[:200]
    assert json.loads(body)["error"]["code"] == "unauthorized"
