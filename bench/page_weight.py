"""Page weight and first paint of the main pages, each next to a same-run baseline.

Run: python bench/page_weight.py [--runs 5] [--demo-dir DIR] [--chromium /usr/bin/chromium]

The demo (``crmsphere demo load`` with config/demo/crmsphere.toml) is loaded into a fresh
SQLite store in a temporary directory (or ``--demo-dir``, loaded once and reused), then served
by ``crmsphere serve`` on 127.0.0.1 with loopback trusted as under ``make run``: the forum
pages are fetched as a visitor, the dashboard pages as the operator.

Weight: each page's HTML and every stylesheet and script it links, raw and gzipped (level 6,
what a compressing proxy sends), as a first visit with nothing cached.

First paint: headless Chromium (Playwright) opens each page ``--runs`` times, each time in a
fresh context (cold cache: the HTML, its CSS and its scripts are fetched), and reads
``first-paint`` and ``first-contentful-paint`` from the Paint Timing API; medians.  The
baseline of each page is a bare static HTML page of the same byte size (one paragraph of
text, no CSS, no script) served by a bare aiohttp server in this process on the same
machine, opened in turns with the page (page, baseline, page, ...) so that both meet the
same load: what the browser needs for that many bytes with no application, stylesheet or
script around them.  "FCP - base" is the median of the per-turn differences.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config" / "demo" / "crmsphere.toml"
ASSET = re.compile(r'<(?:link rel="stylesheet" href|script src)="(/[^"]+)"')
PAINT = """() => {
  const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
  return {fp: paint['first-paint'] ?? null, fcp: paint['first-contentful-paint'] ?? null};
}"""


@dataclass
class Weight:
    """Bytes of one page: its HTML and the stylesheets and scripts it links."""

    html: bytes
    css: dict[str, bytes] = field(default_factory=dict)
    js: dict[str, bytes] = field(default_factory=dict)

    @staticmethod
    def sizes(parts: list[bytes]) -> tuple[int, int]:
        """Raw and gzipped bytes of ``parts``, each compressed on its own (one response each)."""
        return sum(len(p) for p in parts), sum(len(gzip.compress(p, 6)) for p in parts)

    def row(self) -> dict[str, tuple[int, int]]:
        """Raw and gzip sizes of the HTML, the CSS, the JS and all of it."""
        css, js = list(self.css.values()), list(self.js.values())
        return {"html": self.sizes([self.html]), "css": self.sizes(css), "js": self.sizes(js),
                "total": self.sizes([self.html, *css, *js])}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> bytes:
    """The body of a GET (asking for no compression: the raw bytes are what we weigh)."""
    req = urllib.request.Request(url, headers={"Accept-Encoding": "identity", "Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def weigh(base: str, path: str) -> Weight:
    """The page at ``path`` and each stylesheet and script it links (same origin)."""
    weight = Weight(fetch(base + path))
    for asset in dict.fromkeys(ASSET.findall(weight.html.decode())):
        # Linked by content hash (/static/x.css?v=...): the path says what it is.
        (weight.css if asset.split("?", 1)[0].endswith(".css") else weight.js)[asset] = fetch(base + asset)
    return weight


def load_demo(directory: Path, port: int) -> Path:
    """A config serving the demo from a store in ``directory`` (loaded unless already there)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "crmsphere.toml"
    config.write_text(DEMO_CONFIG.read_text() + f'\n[store]\nurl = "sqlite:///{directory / "demo.sqlite"}"\n'
                      f"[server]\nport = {port}\n")
    if not (directory / "demo.sqlite").exists():
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "crmsphere", "--config", str(config), "demo", "load"],
                       cwd=directory, check=True, stdout=subprocess.DEVNULL)
        print(f"demo loaded in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return config


def serve(config: Path, base: str, log: Path) -> subprocess.Popen:
    """``crmsphere serve`` with loopback trusted (as ``make run``), once it answers /healthz."""
    env = {**os.environ, "CRMSPHERE_API__TRUST_LOOPBACK": "true", "CRMSPHERE_ADMIN_TOKEN": ""}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "crmsphere", "--config", str(config), "serve"],
                                cwd=config.parent, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            fetch(base + "/healthz")
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"serve never answered: {log.read_text()[-2000:]}")


def main_pages(base: str) -> dict[str, str]:
    """Page name → path: the forum's index, roadmap and busiest idea; the dashboard's stream,
    analytics and the 360 of the customer with the most linked mentions."""
    index = fetch(base + "/forum").decode()
    idea = re.search(r'href="(/forum/ideas/\d+)"', index)
    # The customer 360 with the most on it: the customer most linked in the newest mentions.
    mentions = json.loads(fetch(base + "/api/dashboard/mentions?limit=200"))["items"]
    linked = Counter(link["customer_id"] for m in mentions for link in m.get("links", []))
    if not idea or not linked:
        raise SystemExit("the demo has no idea or no linked customer to open")
    customer = urllib.parse.quote(linked.most_common(1)[0][0])
    return {"forum index": "/forum", "roadmap": "/forum/roadmap", "idea": idea.group(1),
            "dashboard": "/dashboard", "analytics": "/dashboard/analytics",
            "customer 360": f"/dashboard/customers/{customer}"}


class Baseline:
    """A bare aiohttp server in a thread of this process answering ``/baseline/{bytes}`` with a
    static HTML page of exactly that many bytes: one paragraph, no CSS, no script."""

    def __init__(self) -> None:
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def page(size: int) -> bytes:
        """A valid HTML page of ``size`` bytes (at least its frame)."""
        head = b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>baseline</title></head><body><p>'
        tail = b"</p></body></html>"
        words = b"lorem ipsum dolor sit amet " * (size // 27 + 1)
        return head + words[:max(0, size - len(head) - len(tail))] + tail

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.page(int(request.match_info["size"])), content_type="text/html")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get(r"/baseline/{size:\d+}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> Baseline:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def paint_once(browser, url: str) -> tuple[float, float]:
    """First paint and first contentful paint (ms) of one cold load of ``url`` (fresh context)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        for _ in range(50):  # the paint entries are queued just after the frame: wait for them
            timing = page.evaluate(PAINT)
            if timing["fcp"] is not None:
                break
            page.wait_for_timeout(50)
        return (timing["fp"] if timing["fp"] is not None else float("nan"),
                timing["fcp"] if timing["fcp"] is not None else float("nan"))
    finally:
        context.close()


def paint_times(browser, url: str, baseline_url: str, runs: int) -> dict[str, float]:
    """Medians over ``runs`` cold loads of the page and of its baseline, taken in turns so that
    both see the same load on the machine; ``fcp_over_baseline`` is the median of the per-turn
    differences (page FCP minus baseline FCP), the steadiest figure on a busy machine."""
    own, bare = [], []
    for _ in range(runs):
        own.append(paint_once(browser, url))
        bare.append(paint_once(browser, baseline_url))
    return {"fp": statistics.median(o[0] for o in own), "fcp": statistics.median(o[1] for o in own),
            "base_fp": statistics.median(b[0] for b in bare), "base_fcp": statistics.median(b[1] for b in bare),
            "fcp_over_baseline": statistics.median(o[1] - b[1] for o, b in zip(own, bare, strict=True))}


def kb(n: int) -> str:
    """Bytes as KB with one decimal."""
    return f"{n / 1024:.1f}"


def main() -> int:
    """Loads and serves the demo, weighs and paints the main pages, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per page (median)")
    parser.add_argument("--demo-dir", type=Path, help="load the demo here once and reuse it")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    temp = None if args.demo_dir else Path(tempfile.mkdtemp(prefix="page-weight-"))
    directory = args.demo_dir or temp
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(load_demo(directory, port), base, directory / "serve.log")
    try:
        pages = main_pages(base)
        weights = {name: weigh(base, path) for name, path in pages.items()}
        with Baseline() as baseline, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True)
            try:
                paint_once(browser, base + "/forum")  # warm the browser and the server once
                times = {name: paint_times(browser, base + path,
                                           f"http://127.0.0.1:{baseline.port}/baseline/{len(weights[name].html)}",
                                           args.runs)
                         for name, path in pages.items()}
            finally:
                browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)

    print(f"page weight (KB, raw / gzip; first visit) and paint (ms, median of {args.runs} cold loads; "
          "baseline: bare static HTML of the same size, loaded in turns with the page)")
    print(f"{'page':<14}{'HTML':>13}{'CSS':>13}{'JS':>13}{'total':>14}{'FP':>7}{'FCP':>7}{'base FP':>9}"
          f"{'base FCP':>9}{'FCP - base':>11}")
    report = {}
    for name, weight in weights.items():
        row = weight.row()
        t = times[name]
        cells = "".join(f"{kb(r) + ' / ' + kb(g):>13}" for r, g in (row["html"], row["css"], row["js"]))
        total = f"{kb(row['total'][0])} / {kb(row['total'][1])}"
        print(f"{name:<14}{cells}{total:>14}{t['fp']:>7.0f}{t['fcp']:>7.0f}{t['base_fp']:>9.0f}{t['base_fcp']:>9.0f}"
              f"{t['fcp_over_baseline']:>+11.0f}")
        report[name] = {"path": pages[name], **{k: {"raw": r, "gzip": g} for k, (r, g) in row.items()},
                        "paint_ms": t}
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
