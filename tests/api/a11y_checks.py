"""The accessibility checks the browser tests share: axe-core run in the page (vendored, no
download) on the rules WCAG AA asks of text and controls, and the colours a page is drawn in.

axe-core (MPL-2.0) is vendored in ``tests/vendor/axe-core``: a test asset, never served.  The
pages send a strict Content-Security-Policy (``script-src 'self'``), which refuses the inline
``<script>`` that ``page.add_script_tag`` would add; so the library is evaluated through
Playwright's ``page.evaluate``, which goes through the browser's debugging protocol, outside the
page's CSP (axe itself needs no ``eval``).  The policy therefore stays on, and the pages are
checked as people get them."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "tests" / "vendor" / "axe-core" / "axe.min.js"
RULES = ["color-contrast", "button-name", "link-name", "label", "select-name",
         "aria-command-name", "image-alt", "document-title", "html-has-lang"]

RUN_AXE = """async (rules) => {
  const result = await axe.run(document, {runOnly: {type: 'rule', values: rules},
                                          resultTypes: ['violations']});
  return result.violations.map(v => ({
    rule: v.id,
    nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.any[0] || n.all[0] || n.none[0] || {}).message)
  }));
}"""


def axe_violations(page) -> list[dict]:
    """The page's violations of ``RULES`` (axe-core evaluated in the page, see the module's docstring)."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(RUN_AXE, RULES)


def luminance(css_colour: str) -> float:
    """WCAG relative luminance of a computed colour: ``rgb(r, g, b)``, ``rgba(...)`` or, for a
    ``color-mix()``, ``color(srgb r g b / a)`` with channels from 0 to 1."""
    inside = css_colour[css_colour.index("(") + 1:-1]
    if css_colour.startswith("color("):
        channels = [float(c) for c in inside.split("/")[0].split()[1:4]]
    else:
        channels = [float(c) / 255 for c in inside.split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


PAGE_COLOURS = """() => {
  const body = getComputedStyle(document.body);
  const card = document.querySelector('.panel, .card, .mention:not(.focused), .mod-item, table');
  return {page: body.backgroundColor, text: body.color,
          card: card ? getComputedStyle(card).backgroundColor : body.backgroundColor};
}"""


def drawn_dark(colours: dict) -> bool:
    """Whether ``PAGE_COLOURS`` found the page and its cards dark and the text light."""
    return (luminance(colours["page"]) < 0.05 and luminance(colours["card"]) < 0.05
            and luminance(colours["text"]) > 0.6)
