"""Page first, then load: lists that stay flat however many rows there are.

Django's ``Paginator`` over a list's full queryset makes the database join, annotate and sort
every row before taking the page. ``IdPaginator`` counts and slices a cheap query of primary
keys instead (the list's filters and its ordering, on indexed columns, nothing else selected),
then loads only the page's rows, with their joins and annotations, by primary key, and puts
them back in the page's order. Pages, the API and templates use it like a ``Paginator``::

    page = paginate(services.list_courses(user, ...), 30, request.GET.get("page"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class IdPaginator(Paginator):
    """A ``Paginator`` over ``ids`` (an ordered ``values_list("pk", flat=True)`` queryset) whose
    pages hold the objects ``load(ids)`` returns, in the order of ``ids``."""

    def __init__(self, ids: QuerySet, per_page: int, load: Callable[[list], Iterable], **kwargs):
        super().__init__(ids, per_page, **kwargs)
        self.load = load

    def _get_page(self, object_list, number, paginator):
        ids = list(object_list)
        rows = {obj.pk: obj for obj in self.load(ids)} if ids else {}
        return Page([rows[pk] for pk in ids if pk in rows], number, paginator)


def id_paginator(qs: QuerySet, per_page: int) -> IdPaginator:
    """An ``IdPaginator`` for a list's queryset: its ids query is ``qs`` reduced to the primary
    key (``select_related`` and unused annotations drop out), its rows are ``qs`` by primary key."""
    ids = qs.values_list("pk", flat=True)
    return IdPaginator(ids, per_page, lambda page_ids: qs.order_by().filter(pk__in=page_ids))


def paginate(qs: QuerySet, per_page: int, number) -> Page:
    """The page ``number`` (clamped like ``Paginator.get_page``) of ``qs``, page first."""
    return id_paginator(qs, per_page).get_page(number)
