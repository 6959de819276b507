"""Routes of the ideas forum: the JSON API under /api and the pages under /forum."""

from __future__ import annotations

from aiohttp import web

from api import accounts, ideas
from api.forum import pages as forum_pages, signin as forum_signin
from api.openapi import document as openapi
from api.changelog import setup_changelog_api
from api.changelog_editor import setup_changelog_editor
from api.changelog_pages import setup_changelog_pages
from api.contract import add_operations
from api.forum.brand import brand_css, brand_logo
from api.forum.edit import setup_edit_routes
from api.forum.moderation import setup_moderation_routes
from api.keys import OPENAPI_CACHE
from api.notify_pages import setup_notify_pages

_ID = r"{id:\d+}"


def setup_forum_routes(app: web.Application) -> None:
    """Attach the forum's API routes and pages."""
    r = app.router
    # Before the static directory (registered last), which would otherwise answer 404.
    r.add_get("/static/brand.css", brand_css)
    app[OPENAPI_CACHE] = {}
    add_operations(
        r,
        openapi.openapi_json,
        accounts.signup,
        accounts.login,
        accounts.logout,
        accounts.verify,
        accounts.me,
        accounts.list_tokens,
        accounts.create_token,
        accounts.revoke_token,
        accounts.list_accounts,
        accounts.update_account,
        ideas.statuses,
        ideas.list_ideas,
        ideas.create_idea,
        ideas.similar,
        ideas.vote_counts,
        ideas.get_idea,
        ideas.patch_idea,
        ideas.delete_idea,
        ideas.vote,
        ideas.unvote,
        ideas.list_comments,
        ideas.add_comment,
        ideas.patch_comment,
        ideas.delete_comment,
        ideas.set_status,
        ideas.merge_idea,
        ideas.unmerge_idea,
        ideas.follow,
        ideas.unfollow,
        ideas.link_mention,
    )
    p, s = forum_pages, forum_signin
    r.add_get("/forum", p.browse, name="forum")
    r.add_get("/forum/roadmap", p.roadmap)
    r.add_get("/forum/brand-logo", brand_logo)
    r.add_get("/forum/submit", p.submit_form)
    r.add_post("/forum/submit", p.submit)
    r.add_get(f"/forum/ideas/{_ID}", p.idea_page)
    r.add_post(f"/forum/ideas/{_ID}/vote", p.toggle_vote)
    r.add_post("/forum/votes", p.list_vote)
    r.add_post(f"/forum/ideas/{_ID}/comments", p.comment)
    r.add_post(f"/forum/ideas/{_ID}/status", p.change_status)
    r.add_post(f"/forum/ideas/{_ID}/merge", p.merge_form)
    r.add_post(f"/forum/ideas/{_ID}/unmerge", p.merge_form)
    r.add_get("/forum/signin", s.signin_form)
    r.add_post("/forum/signin", s.signin)
    r.add_get("/forum/signup", s.signin_form)
    r.add_post("/forum/signup", s.signin)
    r.add_post("/forum/signout", s.signout)
    r.add_get("/forum/verify", s.verify)
    setup_moderation_routes(app)
    setup_notify_pages(app)
    setup_edit_routes(app)
    setup_changelog_api(app)
    setup_changelog_pages(app)
    setup_changelog_editor(app)
