"""Settings of the ideas forum (the ``[forum]`` section): statuses, sessions, impact formula."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from config.logo_file import read_logo


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


#: the longest welcome message above the board (``[forum] welcome``): a few lines of Markdown
WELCOME_MAX = 1000
HEX_COLOUR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
#: A logo's address: a path on this server, or https:// with a host name (letters, digits,
#: dots, hyphens), an optional port and a path; no user, query or fragment.  The characters are
#: few on purpose: the origin is written into the Content-Security-Policy header and the path
#: into an ``src`` attribute.
LOGO_URL = (r"^(?:/[A-Za-z0-9._~%/-]*|https://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
            r"(?:/[A-Za-z0-9._~%/-]*)?)?$")


class StatusSettings(_Section):
    """One idea status: ``closed`` ends voting, ``roadmap`` shows it on the public roadmap;
    ``color`` (a hex colour: it is written into /static/brand.css) tints its badge."""

    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")
    label: str = Field(min_length=1, max_length=80)
    closed: bool = False
    roadmap: bool = False
    color: str = Field("#667085", pattern=HEX_COLOUR)


DEFAULT_STATUSES = (
    StatusSettings(key="open", label="Open", color="#667085"),
    StatusSettings(key="under-review", label="Under review", color="#b54708"),
    StatusSettings(key="planned", label="Planned", roadmap=True, color="#1570ef"),
    StatusSettings(key="in-progress", label="In progress", roadmap=True, color="#7a5af8"),
    StatusSettings(key="done", label="Done", closed=True, roadmap=True, color="#079455"),
    StatusSettings(key="declined", label="Declined", closed=True, color="#d92d20"),
)


class ImpactSettings(_Section):
    """The impact formula: each vote scores its customer's segment weight plus
    ``revenue_weight`` × log10(1 + annual revenue / ``revenue_unit``); each linked social
    mention scores ``mention_weight`` × its customer's weight (1 when unknown)."""

    segment_weights: dict[str, float] = {
        "enterprise": 3.0, "mid-market": 2.0, "smb": 1.0, "startup": 1.0, "consumer": 0.5}
    default_segment_weight: float = Field(1.0, ge=0)
    revenue_weight: float = Field(1.0, ge=0)
    revenue_unit: float = Field(100_000.0, gt=0)
    mention_weight: float = Field(0.5, ge=0)


class ModerationSettings(_Section):
    """The approval queue: new ideas and/or comments of customers wait for staff when on."""

    approve_ideas: bool = False
    approve_comments: bool = False


class ChangelogSettings(_Section):
    """The public changelog: the status an idea moves to when an entry shipping it is
    published, and bounds of what staff write."""

    #: a configured, closed status; empty: the first closed status on the roadmap (the
    #: default list's "done"), else the first closed status
    shipped_status: str = Field("", max_length=40)
    title_max: int = Field(150, ge=10, le=1000)
    #: Markdown characters of one entry's body
    body_max: int = Field(50_000, ge=100, le=500_000)
    #: ideas one entry may ship
    max_ideas: int = Field(50, ge=1, le=500)
    #: entries in the Atom feed and on one page of the changelog
    page_entries: int = Field(20, ge=1, le=100)


class RateLimit(_Section):
    """At most ``limit`` requests per ``window_seconds`` (fixed windows); 0 turns it off."""

    limit: int = Field(ge=0, le=1_000_000)
    window_seconds: int = Field(ge=1, le=7 * 86400)


def _one_step(value: object) -> object:
    # One table is a ladder of one step.
    return [value] if isinstance(value, (dict, RateLimit)) else value


def _shortest_first(steps: tuple[RateLimit, ...]) -> tuple[RateLimit, ...]:
    return tuple(sorted(steps, key=lambda step: step.window_seconds))


#: A back-off ladder: several limits on the same requests over growing windows, e.g. 5 a
#: minute, 10 a quarter hour, 20 in 4 hours.  Whoever keeps trying waits longer at each step.
Backoff = Annotated[tuple[RateLimit, ...], BeforeValidator(_one_step),
                    AfterValidator(_shortest_first)]


def _steps(*pairs: tuple[int, int]) -> tuple[RateLimit, ...]:
    return tuple(RateLimit(limit=limit, window_seconds=window) for limit, window in pairs)


class RateLimitSettings(_Section):
    """Per-account limits on writing (staff are exempt); back-off ladders per e-mail address
    and per client address on sign-in, sign-up, mailed sign-in links and password resets.
    Counted in the store, so they hold across processes."""

    ideas: RateLimit = RateLimit(limit=10, window_seconds=3600)
    votes: RateLimit = RateLimit(limit=120, window_seconds=600)
    comments: RateLimit = RateLimit(limit=30, window_seconds=600)
    mail_links_per_email: Backoff = _steps((5, 3600), (10, 86400))
    mail_links_per_ip: Backoff = _steps((30, 3600), (100, 86400))
    sign_in_per_account: Backoff = _steps((5, 60), (10, 900), (20, 14400))
    sign_in_per_ip: Backoff = _steps((20, 60), (100, 3600))
    signups_per_ip: Backoff = _steps((10, 600), (30, 86400))


class PasswordHashingSettings(_Section):
    """The ``[forum.password_hashing]`` section: argon2id's costs for account passwords.

    The defaults are argon2-cffi's (RFC 9106's second recommended choice); a hash keeps the
    costs it was made with, and a sign-in with other costs configured re-hashes the password.
    """

    time_cost: int = Field(3, ge=1, le=20)
    memory_kib: int = Field(65_536, ge=8, le=4_194_304)
    parallelism: int = Field(4, ge=1, le=64)

    @model_validator(mode="after")
    def _memory_for_every_lane(self) -> PasswordHashingSettings:
        # argon2 refuses less than 8 KiB per lane.
        if self.memory_kib < 8 * self.parallelism:
            raise ValueError(f"memory_kib of at least 8 per lane of parallelism ({8 * self.parallelism})")
        return self


class ForumSettings(_Section):
    """The ``[forum]`` section."""

    statuses: tuple[StatusSettings, ...] = DEFAULT_STATUSES
    #: minutes an author may still edit their idea or comment
    edit_window_minutes: int = Field(60, ge=0, le=60 * 24 * 365)
    session_days: int = Field(30, ge=1, le=365)
    #: link an account to the customer registry at sign-up without e-mail verification
    #: (only for closed installations and tests: anyone could claim any address)
    trust_signup_email: bool = False
    #: a local demo without a mail server: the links account mails carry (verification,
    #: sign-in, password reset) are also shown on the page and logged.  Anyone could then take
    #: any account by its address: never on a server others can reach; off unless set.
    demo_mode: bool = False
    #: "auto": Secure cookies when the request came over TLS; "always"; "never"
    secure_cookies: str = Field("auto", pattern=r"^(auto|always|never)$")
    #: exponent of the idea's age in hours in the trending order (higher forgets faster)
    trending_gravity: float = Field(1.5, ge=0.1, le=5.0)
    similar_limit: int = Field(5, ge=1, le=50)
    #: titles scoring below this (0-100) are not offered as similar
    similar_min_score: float = Field(55.0, ge=0, le=100)
    #: anonymous list answers kept while the store is unchanged (0: none; api/public_cache.py)
    public_cache_entries: int = Field(256, ge=0, le=100_000)
    title_max: int = Field(150, ge=10, le=1000)
    body_max: int = Field(20_000, ge=100, le=1_000_000)
    #: the name customers see in the forum's header and titles (never "crmsphere")
    brand_name: str = Field("Feedback", min_length=1, max_length=60)
    #: one or two sentences under the ideas' heading telling a first-time visitor what this
    #: board is for (plain text: markup is shown as typed)
    board_intro: str = Field("Suggest what we should build next and vote for what matters to you.",
                             min_length=1, max_length=300)
    #: a welcome message above the board (Markdown, rendered like idea bodies: simple tags,
    #: http(s)/mailto links); empty: none shown.  A short header, not a page: at most 1,000
    #: characters
    welcome: str = Field("", max_length=WELCOME_MAX)
    #: a logo shown beside the name: a path on this server, e.g. "/static/logo.svg", or an
    #: https:// address (its origin is added to the pages' Content-Security-Policy img-src);
    #: empty: a monogram of the name
    brand_logo_url: str = Field("", max_length=300, pattern=LOGO_URL)
    #: or a logo file (PNG, JPEG, GIF, WebP or SVG, at most 512 KB), e.g. "data/logo.png",
    #: served from this server at /forum/brand-logo; checked when the settings load
    brand_logo_file: str = Field("", max_length=1000)
    #: the accent colour of buttons, links and the voted state; it is written into a stylesheet,
    #: so only a hex colour ("#3b5bdb" or "#35d") is accepted
    accent_color: str = Field("#3b5bdb", pattern=HEX_COLOUR)
    impact: ImpactSettings = ImpactSettings()
    moderation: ModerationSettings = ModerationSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    changelog: ChangelogSettings = ChangelogSettings()
    password_hashing: PasswordHashingSettings = PasswordHashingSettings()

    @field_validator("statuses")
    @classmethod
    def _valid_statuses(cls, statuses: tuple[StatusSettings, ...]) -> tuple[StatusSettings, ...]:
        keys = [s.key for s in statuses]
        if not statuses:
            raise ValueError("at least one status (the first is where new ideas start)")
        if len(set(keys)) != len(keys):
            raise ValueError("unique status keys")
        if statuses[0].closed:
            raise ValueError("a first status that is not closed (new ideas start there)")
        return statuses

    @model_validator(mode="after")
    def _shipped_status_is_closed(self) -> ForumSettings:
        key = self.changelog.shipped_status
        shipped = self.status(key)
        if key and (shipped is None or not shipped.closed):
            closed = ", ".join(s.key for s in self.statuses if s.closed) or "none configured"
            raise ValueError(f"changelog.shipped_status must be a closed status ({closed})")
        return self

    def shipped_status(self) -> StatusSettings | None:
        """The status a changelog entry moves the ideas it ships to (``None``: no closed
        status is configured)."""
        if self.changelog.shipped_status:
            return self.status(self.changelog.shipped_status)
        closed = [s for s in self.statuses if s.closed]
        return next((s for s in closed if s.roadmap), closed[0] if closed else None)

    @field_validator("welcome")
    @classmethod
    def _welcome_text(cls, text: str) -> str:
        # Blank lines only would show an empty box above the board: the same as none.
        if "\x00" in text:
            raise ValueError("text without NUL characters")
        return text.strip()

    @field_validator("brand_logo_url")
    @classmethod
    def _same_origin_logo(cls, url: str) -> str:
        # "//host/x" is another origin without a scheme: it would follow the page's (http too).
        if url.startswith("//"):
            raise ValueError("a path on this server starting with one '/', e.g. /static/logo.svg, "
                             "or an https:// address")
        if url.startswith("https://") and ".." in url.split("/", 3)[2]:
            raise ValueError("an https:// address whose host name has no empty label")
        return url

    @model_validator(mode="after")
    def _one_logo(self) -> ForumSettings:
        if self.brand_logo_file:
            if self.brand_logo_url:
                raise ValueError("brand_logo_url or brand_logo_file, not both")
            read_logo(self.brand_logo_file)  # missing, too large or not an image: said now
        return self

    def logo_src(self) -> str:
        """Where the pages load the logo from ("" for none: the name's initials)."""
        return "/forum/brand-logo" if self.brand_logo_file else self.brand_logo_url

    def logo_origin(self) -> str:
        """The origin of an https:// logo ("https://cdn.example:8443"), which the pages'
        Content-Security-Policy must allow images from; "" for a same-origin logo or none."""
        if not self.brand_logo_url.startswith("https://"):
            return ""
        return "https://" + self.brand_logo_url[len("https://"):].split("/", 1)[0].lower()

    def status(self, key: str) -> StatusSettings | None:
        """The status named ``key``, or ``None``."""
        return next((s for s in self.statuses if s.key == key), None)
