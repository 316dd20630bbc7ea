"""Pages of long tables for the dashboards: stable and fast far from the start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.functional import cached_property


def pager_params(query: QueryDict) -> str:
    """A list's filters for its pager's links: the request's query string without the page
    number, URL-encoded (a value may hold "&" or "=")."""
    params = query.copy()
    params.pop("page", None)
    return params.urlencode()


class DeferredPaginator(Paginator):
    """Pages that stay fast far from the start: a deep page reads its ids first (a narrow
    sort, or the index alone) and then only its own rows, instead of sorting and skipping over
    whole rows with their joins and computed states."""

    deferred_from = 1_000

    # These paginators page querysets; `_get_page` is Paginator's factory of pages (django-stubs
    # leaves it out).
    object_list: QuerySet[Any]
    _get_page: Callable[..., Page[Any]]

    def page(self, number):
        number = self.validate_number(number)
        return self._get_page(self.rows(number), number, self)

    def rows(self, number: int, extra: int = 0) -> list[Any]:
        """The page's rows, and `extra` rows after them where there are."""
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page + extra
        if bottom < self.deferred_from:
            return list(self.object_list[bottom:top])
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        by_id = {row.pk: row for row in self.object_list.filter(pk__in=ids)}
        return [by_id[pk] for pk in ids if pk in by_id]


class LargeTablePaginator(DeferredPaginator):
    """Pages of a table that grows without bound (a network's sessions).

    Counting a million rows to print "page 3 of 20,000" costs more than the page itself, so up
    to `exact_up_to` rows the count is exact, and beyond that the paginator is `open_ended`: the
    pager says "more than `exact_up_to`" and offers the previous and next pages, and each page
    reads one row more than it shows to know whether a next one exists. Nothing shown derives
    from PostgreSQL's planner estimate: its statistics cover the whole table, other tenants'
    rows included.
    """

    exact_up_to = 10_000

    def __init__(self, object_list, per_page, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.counted = False

    @cached_property
    def count(self) -> int:
        # Past the threshold this is exact_up_to + 1: the rows known to exist.
        return self.object_list[: self.exact_up_to + 1].count()

    @property
    def open_ended(self) -> bool:
        return not self.counted and self.count > self.exact_up_to

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past the pages known to exist there may still be rows: page() finds out.
            if self.open_ended and int(number) > 1:
                return int(number)
            raise

    def page(self, number):
        number = self.validate_number(number)
        if not self.open_ended:
            return self._get_page(self.rows(number), number, self)
        rows = self.rows(number, extra=1)
        if not rows and number > 1:
            # Asked for a page past the end: count this tenant's rows exactly, show the last.
            self.__dict__["count"] = self.object_list.count()
            self.__dict__.pop("num_pages", None)
            self.counted = True
            return self.page(self.num_pages)
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs):
        return LargeTablePage(*args, **kwargs)


class LargeTablePage(Page):
    """A page whose successor, past the exactly counted rows, is known by the row read beyond it."""

    more: bool | None = None

    def has_next(self) -> bool:
        if self.more is None:
            return super().has_next()
        return self.more

    def next_page_number(self) -> int:
        if self.more is None:
            return super().next_page_number()
        if not self.more:
            raise EmptyPage("That page contains no results")
        return self.number + 1
