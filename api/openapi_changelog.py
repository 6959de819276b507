"""The OpenAPI paths and schemas of the public changelog: reading entries, and managers
writing and publishing them."""

from __future__ import annotations

from typing import Any

from api.openapi_common import (
    ID,
    SIGNED_IN_WRITE,
    TIME,
    VIEWER,
    I,
    S,
    arr,
    enum,
    int_query,
    json_only,
    nullable,
    obj,
    op,
    query,
    ref,
    tagged,
    text,
)

_IDEA_IDS = {"oneOf": [arr(I, 500), S],
             "description": "ids of the ideas the entry ships (a merged idea ships the idea it "
                            "was merged into; an unknown id is a 400 listing it in "
                            "details.unknown); also accepted as text: \"12, 15\""}

SCHEMAS: dict[str, Any] = {
    "ChangelogEntry": obj(
        id=I, title=S, body={**S, "description": "Markdown"},
        body_html={**S, "description": "the body rendered and sanitised"},
        state=enum("draft", "publishing", "published"), published_at=nullable(TIME),
        created_at=TIME, updated_at=TIME, url=S,
        ideas=arr(obj(id=I, title=S, status=S, vote_count=I, url=S))),
    "ChangelogPublished": {"allOf": [ref("ChangelogEntry"), obj(
        moved_idea_ids={**arr(I), "description": "ideas this call moved to the shipped status"},
        notified={**I, "description": "new notices this call queued (0 when published already)"})]},
}

_WRITE = ("Managers and admins only. Titles are text (3 to forum.changelog.title_max "
          "characters), bodies Markdown (1 to forum.changelog.body_max); errors name the field "
          "in details.field.")

PATHS: dict[str, Any] = tagged(json_only({
    "/api/changelog": {
        "get": op("Changelog entries, newest published first",
                  obj(items=arr(ref("ChangelogEntry")), total=I, limit=I, offset=I), params=[
                      int_query("limit", 20, 1, 100), int_query("offset", 0, 0, 1_000_000),
                      query("drafts", enum("true", "false", "1", "0"),
                            "true: drafts too, drafts first (managers only)")],
                  security=VIEWER),
        "post": op("Write a draft entry", "ChangelogEntry",
                   obj("title", "body", title=text(1000), body=S, idea_ids=_IDEA_IDS),
                   status="201", security=SIGNED_IN_WRITE, description=_WRITE),
    },
    "/api/changelog/{id}": {
        "get": op("One entry (a draft: managers only, 404 for others)", "ChangelogEntry",
                  params=[ID], security=VIEWER),
        "patch": op("Edit an entry's title, body and (while a draft) ideas", "ChangelogEntry",
                    obj(title=text(1000), body=S, idea_ids=_IDEA_IDS), [ID],
                    security=SIGNED_IN_WRITE, description=_WRITE),
    },
    "/api/changelog/{id}/publish": {
        "post": op("Publish: move the shipped ideas to the closing status and tell everyone who "
                   "voted, followed, commented or was linked, once", "ChangelogPublished",
                   params=[ID], security=SIGNED_IN_WRITE,
                   description="Safe to repeat (a double click, a retry after a failure): "
                               "nobody is told twice and published_at keeps its first value. "
                               "Managers and admins only."),
    },
}), "changelog")
