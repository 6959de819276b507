"""Reading the dashboard's filters from the query string, and listing mentions with them."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from api.dashboard.staff import filter_key
from api.query_models import StreamFilters, query_of
from domain import Customer, Mention, MentionQuery, Page
from domain.triage import Triage
from crmsphere.live import MentionFilter
from nlp.signals import filters_of
from storage.base import Store

@dataclass(frozen=True, slots=True)
class DashboardFilters:
    """The stream's filters: the listing's, the NLP ones, and triage status/assignee/tag."""

    query: MentionQuery
    status: str | None = None
    assignee: str | None = None
    tag: str | None = None

    @property
    def triaged(self) -> bool:
        """Whether a triage filter is set."""
        return self.status is not None or self.assignee is not None or self.tag is not None


def dashboard_filters(request: web.Request,
                      model: type[StreamFilters] = StreamFilters) -> DashboardFilters:
    """The filters of a dashboard listing, validated as ``model`` (the route's documented
    query: ``StreamPage`` for the listing read page by page, the filters alone elsewhere)."""
    given = query_of(request, model)
    # "assignee=-" asks for unassigned mentions, else an account id (assignees are accounts).
    return DashboardFilters(given.mention_query(), given.status, filter_key(given.assignee),
                            given.tag)


def live_filter(filters: DashboardFilters) -> MentionFilter:
    """The part of the filters a newly stored mention can be checked against."""
    q = filters.query
    return MentionFilter(source=q.source, customer_id=q.customer_id, text=q.text,
                         topic=q.topic, signals=tuple((s.name, v) for s, v in filters_of(q)))


def new_mention_passes(filters: DashboardFilters) -> bool:
    """Whether a just-stored mention (open, unassigned, untagged) can pass the triage filters."""
    return filters.status in (None, "open") and filters.assignee in (None, "") and filters.tag is None


async def list_dashboard_mentions(
    store: Store, filters: DashboardFilters
) -> tuple[Page[Mention], dict[str, Customer], dict[int, Triage]]:
    """One page of mentions for the filters, with their customers and triage."""
    q = filters.query
    if filters.triaged:
        page = await store.list_triaged_mentions(q, filters.status, filters.assignee, filters.tag)
    else:
        page = await store.list_mentions(q)
    ids = sorted({k.customer_id for m in page.items for k in m.analysis.links})
    customers = await store.get_customers(ids) if ids else {}
    triage = await store.get_triage([m.id for m in page.items if m.id is not None])
    return page, customers, triage
