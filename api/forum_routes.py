"""Routes of the ideas forum: the JSON API under /api and the pages under /forum."""

from __future__ import annotations

from aiohttp import web

from api import accounts, forum_pages, forum_signin, ideas, openapi
from api.contract import add_operations
from api.forum_brand import brand_css
from api.forum_edit import setup_edit_routes
from api.forum_moderation import setup_moderation_routes
from api.keys import OPENAPI_CACHE
from api.notify_pages import setup_notify_pages

_ID = r"{id:\d+}"


def setup_forum_routes(app: web.Application) -> None:
    """Attach the forum's API routes and pages."""
    r = app.router
    # Before the static directory (registered last), which would otherwise answer 404.
    r.add_get("/static/brand.css", brand_css)
    app[OPENAPI_CACHE] = {}
    add_operations(r, openapi.openapi_json)
    r.add_post("/api/auth/signup", accounts.signup)
    r.add_post("/api/auth/login", accounts.login)
    r.add_post("/api/auth/logout", accounts.logout)
    r.add_post("/api/auth/verify", accounts.verify)
    r.add_get("/api/auth/me", accounts.me)
    r.add_get("/api/tokens", accounts.list_tokens)
    r.add_post("/api/tokens", accounts.create_token)
    r.add_delete(f"/api/tokens/{_ID}", accounts.revoke_token)
    r.add_get("/api/accounts", accounts.list_accounts)
    r.add_patch(f"/api/accounts/{_ID}", accounts.update_account)
    r.add_get("/api/statuses", ideas.statuses)
    r.add_get("/api/ideas", ideas.list_ideas)
    r.add_post("/api/ideas", ideas.create_idea)
    r.add_get("/api/ideas/similar", ideas.similar)
    r.add_get("/api/ideas/votes", ideas.vote_counts)
    r.add_get(f"/api/ideas/{_ID}", ideas.get_idea)
    r.add_patch(f"/api/ideas/{_ID}", ideas.patch_idea)
    r.add_delete(f"/api/ideas/{_ID}", ideas.delete_idea)
    r.add_post(f"/api/ideas/{_ID}/vote", ideas.vote)
    r.add_delete(f"/api/ideas/{_ID}/vote", ideas.unvote)
    r.add_get(f"/api/ideas/{_ID}/comments", ideas.list_comments)
    r.add_post(f"/api/ideas/{_ID}/comments", ideas.add_comment)
    r.add_patch(f"/api/comments/{_ID}", ideas.patch_comment)
    r.add_delete(f"/api/comments/{_ID}", ideas.delete_comment)
    r.add_post(f"/api/ideas/{_ID}/status", ideas.set_status)
    r.add_post(f"/api/ideas/{_ID}/merge", ideas.merge_idea)
    r.add_post(f"/api/ideas/{_ID}/unmerge", ideas.unmerge_idea)
    r.add_post(f"/api/ideas/{_ID}/follow", ideas.follow)
    r.add_delete(f"/api/ideas/{_ID}/follow", ideas.follow)
    r.add_post(f"/api/ideas/{_ID}/mentions", ideas.link_mention)
    p, s = forum_pages, forum_signin
    r.add_get("/forum", p.browse, name="forum")
    r.add_get("/forum/roadmap", p.roadmap)
    r.add_get("/forum/submit", p.submit_form)
    r.add_post("/forum/submit", p.submit)
    r.add_get(f"/forum/ideas/{_ID}", p.idea_page)
    r.add_post(f"/forum/ideas/{_ID}/vote", p.toggle_vote)
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
