"""The request bodies of the ideas forum, accounts and notifications: pydantic models, declared
on the routes (``api/contract.py``) and described by the OpenAPI document.

The models hold each body's shape (which fields, of which type); what a value may say (a title's
length, a password's strength, a status key) depends on the forum's settings and is checked by
``community/``, which the forum's HTML forms share."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.contract import Body, PositiveId
from domain.forum import Role

ModerationAction = Literal["approve", "reject", "hide", "unhide", "lock", "unlock", "spam",
                           "not-spam", "dismiss"]


class SignUpBody(Body):
    """A new account."""

    email: str
    password: str
    #: Required: an account has a display name (the document said optional, and a sign-up
    #: without one was refused anyway, by community/accounts.py).
    name: str


class SignInBody(Body):
    """An e-mail address and its password."""

    email: str
    password: str


class EmailBody(Body):
    """The address a link is mailed to (the answer is the same for any address)."""

    email: str


class VerifyBody(Body):
    """The token of a verification mail."""

    token: str = Field(min_length=1)


class PasswordResetBody(Body):
    """The token of a reset mail and the new password."""

    token: str = Field(min_length=1)
    password: str


class TokenBody(Body):
    """A new API token."""

    name: str
    role: Role | None = Field(None, description="at most the caller's own role")


class AccountChangeBody(Body):
    """A new role (admins) and/or blocked (managers and above)."""

    role: Role | None = None
    blocked: bool | None = None

    def given(self) -> dict[str, Any]:
        """The fields the caller sent."""
        return self.model_dump(exclude_unset=True)


class IdeaBody(Body):
    """A new idea."""

    title: str
    body: str = ""
    topic: str | None = None
    tags: list[str] | str | None = Field(None, description="tag names, or one text of names "
                                                           "separated by commas")


class IdeaEditBody(Body):
    """What changes in an idea; hidden and locked are for staff."""

    title: str | None = None
    body: str | None = None
    topic: str | None = None
    tags: list[str] | str | None = Field(None, description="tag names, or one text of names "
                                                           "separated by commas")
    hidden: bool | None = None
    locked: bool | None = None

    def given(self) -> dict[str, Any]:
        """The fields the caller sent."""
        return self.model_dump(exclude_unset=True)


class VoteBody(Body):
    """A vote; staff may vote on behalf of a customer (a proxy vote)."""

    customer_id: str | None = None
    note: str | None = None
    source: Literal["call", "mail", "social", "meeting", "other"] | None = None


class CommentBody(Body):
    """A comment, a reply (``parent_id``) or, for staff, an internal note."""

    body: str
    parent_id: PositiveId | None = None
    internal: bool = False


class CommentEditBody(Body):
    """A comment's new text."""

    body: str


class StatusChangeBody(Body):
    """An idea's new status and the response shown with it."""

    status: str
    response: str | None = None


class MergeBody(Body):
    """The idea a duplicate is merged into."""

    into: PositiveId


class MentionLinkBody(Body):
    """A social mention linked to an idea as a signal."""

    mention_id: PositiveId


class ModerationBody(Body):
    """A moderator's action."""

    action: ModerationAction


class ReportBody(Body):
    """Why something is reported to the moderators."""

    reason: str | None = None


class MarkReadBody(Body):
    """The notifications to mark read (all of them without ``ids``)."""

    ids: list[PositiveId] | None = Field(None, max_length=500)


class NotificationSettingsBody(Body):
    """Mail on each notification and/or a daily digest."""

    mail: bool | None = None
    digest: bool | None = None
