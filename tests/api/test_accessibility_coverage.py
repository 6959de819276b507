"""Every page the app serves is audited by axe-core in real Chromium (``PAGES`` of
``tests/api/test_accessibility_browser.py``) or listed here with the reason it is not, found by
walking the app's router: a new page that is in neither list fails here, so "a page" of the
README's "to add X, touch Y" table includes its audit entry.  An entry that no longer names a
route fails too."""

from __future__ import annotations

import re
from pathlib import Path

from api.app import create_app
from tests.api.test_accessibility_browser import PAGES
from tests.helpers import app_settings

#: Routes answered with something other than a page.
NOT_PAGES = {
    "/": "redirects staff to /dashboard and everybody else to /forum",
    "/forum/brand-logo": "the uploaded logo, an image",
    "/forum/changelog.atom": "an Atom feed",
}
#: Routes drawing a page that ``PAGES`` audits under another path.
SAME_PAGE_AS = {
    "/forum/signup": "signin",  # the same form, its other tab
    "/dashboard/changelog/new": "changelog_editor",  # the editor, empty
}
#: Pages not audited yet, each a gap to close by adding it to ``PAGES`` (and leaving this list).
NOT_AUDITED_YET: dict[str, str] = {}


def _page_routes(tmp_path: Path) -> set[str]:
    app = create_app(app_settings(tmp_path))
    return {r.resource.canonical for r in app.router.routes()
            if r.method == "GET" and r.resource is not None
            and not r.resource.canonical.startswith(("/api/", "/static", "/healthz"))}


def _audited(route: str) -> bool:
    pattern = re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(route)) + "$")
    return any(pattern.match(path.split("?")[0]) for _user, path, _ready in PAGES.values())


def test_every_page_is_audited_or_listed_with_its_reason(tmp_path: Path) -> None:
    routes = _page_routes(tmp_path)
    listed = {**NOT_PAGES, **SAME_PAGE_AS, **NOT_AUDITED_YET}
    unaccounted = sorted(r for r in routes if not _audited(r) and r not in listed)
    assert unaccounted == [], f"pages neither audited (PAGES) nor listed here: {unaccounted}"
    assert sorted(set(listed) - routes) == [], "entries naming no route any more"
    assert sorted(r for r in listed if _audited(r)) == [], "entries audited now: leave the list"
    assert set(SAME_PAGE_AS.values()) <= set(PAGES)
