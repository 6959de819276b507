"""Signing in to Salesforce and turning its failures into crmsphere errors.

Blocking code: everything here runs in a worker thread (``asyncio.to_thread``).
Sign-in is OAuth 2.0 against ``login_url``: a refresh token (web-server flow) or
username + password + security token (password flow, needs the connected app's
client id and secret); a ready ``access_token`` + ``instance_url`` is used as is.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from domain.errors import (
    AuthFailed,
    BadItem,
    CrmsphereError,
    NotConfigured,
    SourceUnavailable,
)

T = TypeVar("T")

#: Salesforce's answer when the org's rolling 24-hour API request limit is used up.
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"

CREDENTIAL_SETS = (
    ("refresh_token", "client_id"),
    ("username", "password", "security_token", "client_id", "client_secret"),
    ("access_token", "instance_url"),
)


class ApiSession(requests.Session):
    """A ``requests`` session with a default timeout that remembers each thread's last answer.

    simple-salesforce's errors keep the body but not the headers; ``Retry-After`` and
    ``Sforce-Limit-Info`` are read from the answer remembered here.
    """

    def __init__(self, timeout: float, ca_bundle: str | None) -> None:
        super().__init__()
        self.timeout = timeout
        self._ca_bundle = ca_bundle  # a private CA (a proxy, a test server); never False
        self._last = threading.local()

    def request(self, method: str | bytes, url: str | bytes, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        """Send with the default timeout and remember the answer for this thread."""
        kwargs.setdefault("timeout", self.timeout)
        if self._ca_bundle:
            # Per request: requests lets REQUESTS_CA_BUNDLE override a session's ``verify``.
            kwargs.setdefault("verify", self._ca_bundle)
        self._last.response = None
        response = super().request(method, url, *args, **kwargs)
        self._last.response = response
        return response

    def last_response(self) -> requests.Response | None:
        """The last answer this thread received, if any."""
        return getattr(self._last, "response", None)


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """``Sforce-Limit-Info: api-usage=used/total`` from the last answer."""

    used: int
    total: int


def retry_after(response: requests.Response | None, default: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or HTTP date), else ``default``."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_codes(content: Any) -> list[str]:
    """The ``errorCode``s of a Salesforce error list ``[{"message","errorCode","fields"}]``."""
    if isinstance(content, list):
        return [str(e.get("errorCode")) for e in content if isinstance(e, Mapping)]
    return []


def error_text(content: Any) -> str:
    """A short human text for a Salesforce error body."""
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        fields = first.get("fields") or []
        where = f" (fields: {', '.join(map(str, fields))})" if fields else ""
        return f"{first.get('errorCode')}: {first.get('message')}{where}"
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return text[:300]


def translate(exc: SalesforceError, response: requests.Response | None, *,
              writing: bool, limit_backoff: float) -> CrmsphereError:
    """The crmsphere error for a Salesforce error answer (what the caller does next)."""
    status, content = exc.status, exc.content
    detail = error_text(content)
    if LIMIT_EXCEEDED in error_codes(content):
        return SourceUnavailable(f"Salesforce API request limit reached: {detail}",
                                 retry_after=retry_after(response, limit_backoff))
    if status == 429 or status >= 500:
        return SourceUnavailable(f"Salesforce answered {status}: {detail}",
                                 retry_after=retry_after(response))
    if status in (401, 403):
        return AuthFailed(f"Salesforce refused the request ({status}): {detail}")
    if {"INVALID_FIELD", "INVALID_TYPE"} & set(error_codes(content)):
        # The org lacks a configured custom field: say so, whichever error the caller gets.
        detail += "; create the field in Salesforce or fix [crm.salesforce]"
        if not writing:
            return NotConfigured(f"Salesforce does not know a configured field or object: {detail}")
    if writing:
        # A 400 naming a field, or a record that no longer exists: retrying cannot help.
        return BadItem(detail, f"salesforce {exc.resource_name or 'request'}")
    # A read Salesforce cannot parse means a configured field name is wrong.
    return NotConfigured(f"Salesforce rejected the query ({status}): {detail}; "
                         "check the field names in [crm.salesforce]")


class SalesforceSession:
    """A signed-in simple-salesforce client, re-signed once when the session expires."""

    def __init__(self, options: Mapping[str, Any], credentials: Mapping[str, str],
                 http: ApiSession) -> None:
        self._options = options
        self._credentials = credentials
        self._http = http
        self._client: Salesforce | None = None
        self._lock = threading.Lock()
        self.usage: ApiUsage | None = None

    def run(self, operation: Callable[[Salesforce], T], *, writing: bool = False) -> T:
        """Run ``operation`` with a client; an expired session is renewed once and retried."""
        for attempt in range(2):
            client = self._signed_in()
            try:
                result = operation(client)
            except SalesforceExpiredSession as exc:
                self._note_usage()
                if attempt == 1 or not self._can_renew():
                    raise AuthFailed(f"Salesforce session refused: {error_text(exc.content)}") from exc
                self._renew(client)
                continue
            except SalesforceError as exc:
                self._note_usage()
                raise translate(exc, self._http.last_response(), writing=writing,
                                limit_backoff=float(self._options["limit_backoff"])) from exc
            except json.JSONDecodeError as exc:
                # A proxy's or maintenance page's HTML instead of the API's JSON.
                raise SourceUnavailable(f"Salesforce answered something other than JSON: {exc}") from exc
            except requests.RequestException as exc:
                raise SourceUnavailable(f"Salesforce unreachable: {exc.__class__.__name__}: {exc}") from exc
            self._note_usage()
            return result
        raise AssertionError("unreachable")  # the loop returns or raises

    def _note_usage(self) -> None:
        """Keep the org's API usage from the last answer's ``Sforce-Limit-Info``."""
        response = self._http.last_response()
        info = response.headers.get("Sforce-Limit-Info", "") if response is not None else ""
        parsed = Salesforce.parse_api_usage(info).get("api-usage") if info else None
        if parsed is not None:
            self.usage = ApiUsage(parsed.used, parsed.total)

    def _can_renew(self) -> bool:
        return bool(self._credentials.get("refresh_token") or self._credentials.get("password"))

    def _signed_in(self) -> Salesforce:
        with self._lock:
            if self._client is None:
                if self._credentials.get("access_token"):
                    self._client = self._build(self._credentials["access_token"], self._instance_url())
                else:
                    self._client = self._build(*self._fetch_token())
            return self._client

    def _renew(self, stale: Salesforce) -> None:
        with self._lock:
            # Another thread may have renewed already while this one waited.
            if self._client is stale:
                self._client = self._build(*self._fetch_token())

    def _instance_url(self, answered: str | None = None) -> str:
        url = answered or self._credentials.get("instance_url") or self._options.get("instance_url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise AuthFailed(f"Salesforce instance URL {url!r} is not an https:// URL")
        return url

    def _build(self, access_token: str, instance_url: str) -> Salesforce:
        return Salesforce(session_id=access_token, instance_url=instance_url,
                          version=str(self._options["api_version"]), session=self._http)

    def _fetch_token(self) -> tuple[str, str]:
        """A new access token and instance URL from the OAuth token endpoint."""
        creds = self._credentials
        form = {"client_id": creds.get("client_id", "")}
        if creds.get("client_secret"):
            form["client_secret"] = creds["client_secret"]
        if creds.get("refresh_token"):
            form.update(grant_type="refresh_token", refresh_token=creds["refresh_token"])
        else:
            form.update(grant_type="password", username=creds.get("username", ""),
                        password=creds.get("password", "") + creds.get("security_token", ""))
        url = str(self._options["login_url"]).rstrip("/") + "/services/oauth2/token"
        try:
            response = self._http.post(url, data=form, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Salesforce sign-in unreachable: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise SourceUnavailable(f"Salesforce sign-in answered {response.status_code}",
                                    retry_after=retry_after(response))
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise AuthFailed(f"Salesforce refused the sign-in ({response.status_code}): "
                             f"{reason or 'no access token in the answer'}")
        return str(body["access_token"]), self._instance_url(body.get("instance_url"))


def missing_credentials(credentials: Mapping[str, str], options: Mapping[str, Any]) -> str | None:
    """Why ``credentials`` cannot sign in (naming the variables to set), or None when one set is complete."""
    if any(all(credentials.get(name) for name in names) for names in CREDENTIAL_SETS):
        return None

    def named(name: str) -> str:
        env = options.get(f"{name}_env")
        return f"{name} ({env})" if env else name

    sets = "; or ".join(" + ".join(map(named, names)) for names in CREDENTIAL_SETS)
    return f"salesforce CRM sync needs credentials: set {sets}"
