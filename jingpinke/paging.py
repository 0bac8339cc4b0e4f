"""Lists whose cost does not grow with the number of rows: page first, bounded counts, keyset cursors.

Every list page and API list pages through ``paginate`` (pages: ``paginate_request``). Three things
keep a list flat however many rows its scope holds:

- **Page first, then load.** The page is taken from a cheap query of primary keys (the list's
  filters and its ordering, on indexed columns, plus the sort key values of each row); only the
  page's rows are then loaded, with their joins and annotations, by primary key, and put back in
  the page's order.
- **Bounded count.** The total is ``SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)``, unordered:
  at most ``settings.LIST_COUNT_CAP`` + 1 rows are read. A list holding more says so ("超过
  10,000 条，请用筛选缩小范围") instead of an exact total; page numbers go up to the cap.
- **Keyset cursors.** Every page also knows the sort key of its first and last row. ``next`` /
  ``previous`` cursors carry them (signed with ``django.core.signing``, so a forged or truncated
  cursor is refused), and a cursor page seeks with ``WHERE key > last`` (expanded per key, with a
  leading ``key0 >= last0`` an index can start from) instead of an ``OFFSET``: page 10,000 costs
  what page 1 costs, and rows inserted or deleted between two pages neither repeat nor skip a row.
  The list's ordering must end in a unique key (the primary key); ``paginate`` appends it if not.

Like DRF's ``CursorPagination`` the cursor is opaque; unlike it, it holds every sort key of the
boundary row (not the first key plus an offset), so ties on the leading keys cost nothing.
A cursor from another ordering (the user changed the sort) is refused as stale: the API answers
400 with a Chinese message, a page falls back to its first page with a message.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.translation import gettext as _

from jingpinke.errors import ServiceError
from jingpinke.sql import in_ids

CURSOR_SALT = "jingpinke.paging.cursor"
FORWARD, BACKWARD = "n", "p"


def count_cap() -> int:
    """How many rows a list counts at most (``JPK_LIST_COUNT_CAP``)."""
    return int(getattr(settings, "LIST_COUNT_CAP", 10_000))


class InvalidCursor(ServiceError):
    """A cursor that was forged, cut short, or made for another ordering of the list."""

    def __init__(self):
        super().__init__(_("翻页参数 cursor 无效或已过期（列表的排序可能已改变），请从第一页重新开始。"),
                         errors=[{"field": "cursor"}])


# --- sort keys ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SortKey:
    """One column of a list's ordering: ``name`` is a field path or annotation as ``values_list``
    takes it; ``nulls_last``: where NULLs sort (None: the column cannot be NULL)."""

    name: str
    descending: bool
    nulls_last: bool | None

    def order_by(self, reverse: bool = False):
        descending = self.descending != reverse
        if self.nulls_last is None:
            return F(self.name).desc() if descending else F(self.name).asc()
        nulls_last = self.nulls_last != reverse
        return OrderBy(F(self.name), descending=descending, nulls_last=nulls_last or None,
                       nulls_first=(not nulls_last) or None)

    def after(self, value, reverse: bool = False) -> Q | None:
        """Rows strictly after ``value`` on this key (None: no row can be)."""
        descending = self.descending != reverse
        nulls_last = None if self.nulls_last is None else self.nulls_last != reverse
        if value is None:
            return None if nulls_last or nulls_last is None else Q(**{f"{self.name}__isnull": False})
        q = Q(**{f"{self.name}__{'lt' if descending else 'gt'}": value})
        return q | Q(**{f"{self.name}__isnull": True}) if nulls_last else q

    def at_or_after(self, value, reverse: bool = False) -> Q:
        """Rows on or after ``value`` on this key: the bound an index scan starts from."""
        if value is None:
            nulls_last = None if self.nulls_last is None else self.nulls_last != reverse
            return Q(**{f"{self.name}__isnull": True}) if nulls_last or nulls_last is None else Q()
        descending = self.descending != reverse
        q = Q(**{f"{self.name}__{'lte' if descending else 'gte'}": value})
        nulls_last = None if self.nulls_last is None else self.nulls_last != reverse
        return q | Q(**{f"{self.name}__isnull": True}) if nulls_last else q

    def equal(self, value) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})


def _nullable(model, path: str, qs: QuerySet) -> bool:
    """Whether ``path`` (``course__school__path``, an annotation) can be NULL in the list's rows:
    a nullable column, or a nullable relation on the way to it."""
    if path in qs.query.annotations:
        return bool(getattr(qs.query.annotations[path].output_field, "null", True))
    parts = path.split("__")
    for i, part in enumerate(parts):
        try:
            field = model._meta.get_field("id" if part == "pk" else part)
        except FieldDoesNotExist:
            if part.endswith("_id"):
                field = model._meta.get_field(part[:-3])
            else:
                return True
        if field.null:
            return True
        if i < len(parts) - 1:
            if not field.is_relation or field.related_model is None:
                return True
            model = field.related_model
    return False


def sort_keys(qs: QuerySet) -> list[SortKey]:
    """The list's ordering as sort keys, ending in the primary key (appended when missing)."""
    vendor_nulls_high = connections[qs.db].vendor in ("postgresql", "oracle")
    keys: list[SortKey] = []
    ordering = qs.query.order_by or (qs.model._meta.ordering if qs.query.default_ordering else ())
    for item in ordering:
        if isinstance(item, str):
            descending, name = item.startswith("-"), item.lstrip("-")
            explicit = None
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            descending, name = item.descending, item.expression.name
            explicit = True if item.nulls_last else False if item.nulls_first else None
        else:
            raise TypeError(f"paginate: cannot page by {item!r}; order by field names or F() expressions")
        if name == "pk":
            name = qs.model._meta.pk.name
        nulls_last = None
        if _nullable(qs.model, name, qs):
            # Where NULLs go when the ordering does not say: high on PostgreSQL, low on SQLite.
            nulls_last = explicit if explicit is not None else (vendor_nulls_high != descending)
        keys.append(SortKey(name, descending, nulls_last))
    pk = qs.model._meta.pk.name
    if not any(k.name in (pk, "pk") for k in keys):
        keys.append(SortKey(pk, keys[-1].descending if keys else False, None))
    return keys


def _seek(keys: list[SortKey], values: list, reverse: bool):
    """Rows after ``values`` in the order of ``keys`` (``reverse``: before them). Keys that cannot
    be NULL and sort the same way: one row comparison, ``(rank, id) > (3, 1207)``, which an index
    on those columns answers as a range. Otherwise the leading key's bound (an index range) AND the
    lexicographic OR of "equal on the keys before, after on this one"."""
    if all(k.nulls_last is None and k.descending == keys[0].descending for k in keys) and None not in values:
        lookup = TupleLessThan if keys[0].descending != reverse else TupleGreaterThan
        return lookup(Tuple(*(F(k.name) for k in keys)), tuple(values))
    alternatives = []
    for i, key in enumerate(keys):
        after = key.after(values[i], reverse)
        if after is not None:
            q = after
            for prev, value in zip(keys[:i], values[:i], strict=False):
                q &= prev.equal(value)
            alternatives.append(q)
    if not alternatives:
        return Q(pk__in=[])
    combined = alternatives[0]
    for q in alternatives[1:]:
        combined |= q
    return keys[0].at_or_after(values[0], reverse) & combined


def _pinned(qs: QuerySet) -> set[str]:
    """Columns of the list's own table the query's filters fix to one value (``campaign_id = 3``):
    every row has the cursor's value there, so the seek skips them and its range starts at the
    next key, where the index has something to narrow."""
    pinned = set()
    where = qs.query.where
    if where.connector != "AND" or where.negated:
        return pinned
    for child in where.children:
        lhs = getattr(child, "lhs", None)
        if (getattr(child, "lookup_name", None) == "exact" and getattr(lhs, "alias", None) == qs.query.base_table
                and not hasattr(child.rhs, "resolve_expression")):
            pinned |= {lhs.target.attname, lhs.target.name}
    return pinned


def _segments(qs: QuerySet, keys: list[SortKey], values: list, reverse: bool) -> list[Q]:
    """The rows after the cursor (``reverse``: before it) as one or two conditions, read in turn.

    One ``_seek`` in general. When the leading free key is nullable and the NULLs lie ahead of the
    cursor in the walk (a ranked entry, with the unranked still to come), "after" would need
    ``… OR key IS NULL``, which no index range serves: instead the rest of the non-NULL part (an
    index range), then the NULL part from its start (another)."""
    pinned = _pinned(qs)
    free = [i for i, k in enumerate(keys) if k.name not in pinned]
    if not free:
        return [Q(pk__in=[])]
    keys_f, values_f = [keys[i] for i in free], [values[i] for i in free]
    lead, value = keys_f[0], values_f[0]
    if lead.nulls_last is None:
        return [_seek(keys_f, values_f, reverse)]
    nulls_ahead = lead.nulls_last != reverse
    plain = [SortKey(lead.name, lead.descending, None), *keys_f[1:]]
    if value is not None and nulls_ahead:  # the rest of the non-NULL part, then the NULL part
        return [Q(_seek(plain, values_f, reverse)) & Q(**{f"{lead.name}__isnull": False}),
                Q(**{f"{lead.name}__isnull": True})]
    if value is None and not nulls_ahead:  # the rest of the NULL part (walking back), then the others
        rest = Q(_seek(keys_f[1:], values_f[1:], reverse)) if keys_f[1:] else Q(pk__in=[])
        return [Q(**{f"{lead.name}__isnull": True}) & rest, Q(**{f"{lead.name}__isnull": False})]
    return [_seek(keys_f, values_f, reverse)]


# --- cursors ----------------------------------------------------------------------------------------------
def _encode_value(value):
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    return value


def _decode_value(value):
    if isinstance(value, dict):
        (tag, text), = value.items()
        return {"t": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal, "u": uuid.UUID}[tag](text)
    return value


def _signature(keys: list[SortKey]) -> str:
    return ",".join(("-" if k.descending else "") + k.name for k in keys)


def make_cursor(keys: list[SortKey], values, direction: str) -> str:
    return signing.dumps({"o": _signature(keys), "d": direction, "v": [_encode_value(v) for v in values]},
                         salt=CURSOR_SALT, compress=True)


def read_cursor(keys: list[SortKey], cursor: str) -> tuple[str, list]:
    """(direction, boundary values) of a cursor made for ``keys``; else ``InvalidCursor``."""
    try:
        data = signing.loads(str(cursor), salt=CURSOR_SALT)
        if data["o"] != _signature(keys) or data["d"] not in (FORWARD, BACKWARD) or len(data["v"]) != len(keys):
            raise ValueError(data)
        return data["d"], [_decode_value(v) for v in data["v"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        raise InvalidCursor() from None


# --- the paginator ----------------------------------------------------------------------------------------
class ListPage(Page):
    """A ``Page`` that also knows its neighbours by cursor. ``number`` is None on a page reached
    by cursor (its position is not counted); ``next_cursor`` / ``previous_cursor``: None at the ends."""

    def __init__(self, object_list, number, paginator, *, has_more_after: bool, has_more_before: bool,
                 next_cursor: str | None, previous_cursor: str | None):
        super().__init__(object_list, number, paginator)
        self._after, self._before = has_more_after, has_more_before
        self.next_cursor, self.previous_cursor = next_cursor, previous_cursor

    def __repr__(self):
        return f"<Page {self.number or 'cursor'}>"

    @property
    def by_cursor(self) -> bool:
        return self.number is None

    def has_next(self):
        return self._after

    def has_previous(self):
        return self._before

    def next_page_number(self):
        """The next page by number while it lies within the counted pages; else None (use the cursor)."""
        if self.number is not None and self.number < self.paginator.num_pages:
            return self.number + 1
        return None

    def previous_page_number(self):
        return self.number - 1 if self.number is not None and self.number > 1 else None


class SequencePaginator(Paginator):
    """Pages by number of rows already in memory (a board's child units: bounded by the tree, not by
    the declarations), as ``ListPage``s, so that the shared pagination include draws them too."""

    capped = False

    @property
    def count_label(self) -> str:
        return _("共 %(n)s 条") % {"n": f"{self.count:,}"}

    def _get_page(self, object_list, number, paginator):
        return ListPage(object_list, number, paginator, has_more_after=number < self.num_pages,
                        has_more_before=number > 1, next_cursor=None, previous_cursor=None)


def paginate_sequence(rows, per_page: int, number) -> ListPage:
    """The page ``number`` (clamped, like ``Paginator.get_page``) of ``rows``."""
    return SequencePaginator(rows, per_page).get_page(number)


class ListPaginator(Paginator):
    """Pages of ``qs`` by number (up to the count cap) or by cursor; counts at most cap + 1 rows.

    Page first (``page_first``, or a ``load``): the page's primary keys and sort keys come from a
    query of those columns only, then ``load(ids)`` returns the page's rows in any order (by
    default ``qs`` filtered by primary key): for lists whose rows join or annotate a lot. Otherwise
    the page's rows are read in one query, with their sort keys annotated (``_paging_k0`` …)."""

    # ``split_nulls``: a list counting more rows than this reads a page by number in two parts (``_split``)
    SPLIT_NULLS_FROM = 1000

    def __init__(self, qs: QuerySet, per_page: int, load: Callable[[list], Iterable] | None = None,
                 cap: int | None = None, *, page_first: bool = False, split_nulls: bool = False,
                 narrow_first: bool = False):
        super().__init__(qs, per_page)
        self.qs = qs
        self.split_nulls = split_nulls
        self.narrow_first = narrow_first
        self.keys = sort_keys(qs)
        self.cap = count_cap() if cap is None else cap
        if load is None and page_first:
            load = lambda ids: qs.order_by().filter(pk__in=ids)  # noqa: E731
        self.load = load

    # counting ---------------------------------------------------------------------------------------
    def _narrow(self) -> None:
        """``narrow_first`` (a search): read the list's primary keys, unordered, up to cap + 1, before
        any page. They are the count (the count query is not run); when they are at most ``cap``,
        the pages are read among them (``pk IN (…)``): sorting a few hundred rows costs little,
        where walking the list's sort index for a page of sparse matches did not. A broad word in a
        county of a 1,000,000-course province: the page walked the campaign's rank index through
        ~190,000 entries for its 31 matches of 670 (290–550 ms); its matches read in the scope's own
        index first, ~40 ms. Beyond ``cap`` (a word common in a large scope: its matches are dense
        in the sort index) the pages are read as without it."""
        if not self.narrow_first or hasattr(self, "_count"):
            return
        ids = list(self.qs.order_by().values_list("pk", flat=True)[: self.cap + 1])
        self._count = len(ids)
        if not ids:
            self.qs = self.qs.none()
        elif len(ids) <= self.cap:
            if self.load is not None and not self.qs.query.annotations:
                # the list's filters (scope, search) chose the ids; its page is read among them alone
                # (the rows come from ``load``): the same conditions again, and the ids, would only
                # make the planner expect a row or two and scan a small table
                self.qs = (self.qs.model._base_manager.filter(in_ids("pk", ids))
                           .order_by(*(k.order_by() for k in self.keys)))
            else:
                self.qs = self.qs.filter(in_ids("pk", ids))

    @property
    def count(self) -> int:
        """The number of rows, up to cap + 1 (more than ``cap``: ``capped``)."""
        if not hasattr(self, "_count"):
            self._count = self.qs.order_by().values("pk")[: self.cap + 1].count()
        return self._count

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def num_pages(self) -> int:
        """Pages reachable by number: those of the first ``cap`` rows (at least 1)."""
        return max(1, math.ceil(min(self.count, self.cap) / self.per_page))

    @property
    def cap_display(self) -> str:
        return f"{self.cap:,}"

    @property
    def count_label(self) -> str:
        """The total as a list shows it: "共 1,234 条", or "超过 10,000 条，请用筛选缩小范围"."""
        if self.capped:
            return _("超过 %(n)s 条，请用筛选缩小范围") % {"n": f"{self.cap:,}"}
        return _("共 %(n)s 条") % {"n": f"{self.count:,}"}

    # pages ------------------------------------------------------------------------------------------------
    def _foreign_nulls(self, reverse: bool = False) -> SortKey | None:
        """The leading free sort key (the first the filters do not pin) when it can be NULL and the
        list wants its NULLs where the database's indexes do not keep them (SQLite keeps NULLs
        first in ascending order; the entries' ``rank`` sorts them last). The database then sorts
        every row of the list by that key for one page (``USE TEMP B-TREE FOR RIGHT PART OF ORDER
        BY``: all 267,000 entries of a province on SQLite, 70 ms), unless the NULLs and the others
        are read apart, each in its index order (``_split``, ``cursor_page``)."""
        pinned = _pinned(self.qs)
        lead = next((k for k in self.keys if k.name not in pinned), None)
        if lead is None or lead.nulls_last is None:
            return None
        vendor_nulls_high = connections[self.qs.db].vendor in ("postgresql", "oracle")
        descending = lead.descending != reverse
        return lead if (lead.nulls_last != reverse) != (vendor_nulls_high != descending) else None

    def _plain(self, lead: SortKey, reverse: bool = False) -> list:
        """The list's ordering with ``lead``'s NULL placement left to the database: the same order
        on rows where ``lead`` is all NULL or never NULL."""
        return [SortKey(k.name, k.descending, None).order_by(reverse) if k is lead else k.order_by(reverse)
                for k in self.keys]

    def _split(self) -> tuple[QuerySet, QuerySet] | None:
        """(first part, second part) of the list when ``_foreign_nulls``: its rows where the key is
        not NULL and those where it is, in the list's order, each ordered as its index reads it.
        Only for a list that asks (``split_nulls``) and, when it was counted, counts more than
        ``SPLIT_NULLS_FROM`` rows: sorting a few hundred rows costs less than a second query when
        the first part runs out (a page reached back from a cursor is not counted, and splits)."""
        lead = self._foreign_nulls() if self.split_nulls else None
        if lead is None or getattr(self, "_count", self.SPLIT_NULLS_FROM + 1) <= self.SPLIT_NULLS_FROM:
            return None
        plain = self._plain(lead)
        valued = self.qs.filter(**{f"{lead.name}__isnull": False}).order_by(*plain)
        nulls = self.qs.filter(**{f"{lead.name}__isnull": True}).order_by(*plain)
        return (valued, nulls) if lead.nulls_last else (nulls, valued)

    def _window(self, bottom: int, size: int) -> list[tuple]:
        """``_ids`` of the rows ``bottom`` … ``bottom + size`` of the list, by offset: in one query,
        or across the two parts of ``_split`` (the first part counted, up to ``bottom``, only when
        the window starts beyond it)."""
        split = self._split()
        if split is None:
            return self._ids(self.qs, slice(bottom, bottom + size))
        first, second = split
        rows = self._ids(first, slice(bottom, bottom + size))
        if len(rows) < size:
            # rows: the first part ends in this window; none: it ended before (it holds < bottom rows)
            start = 0 if rows or not bottom else bottom - first.order_by().values("pk")[:bottom].count()
            rows += self._ids(second, slice(start, start + size - len(rows)))
        return rows

    def _ids(self, qs: QuerySet, window: slice) -> list[tuple]:
        """(key values…, row) of the rows of ``window`` of ``qs``; ``row`` is the primary key when
        the page is loaded afterwards (``load``), else the object itself."""
        names = [k.name for k in self.keys]
        if self.load is not None:
            return list(qs.values_list(*names, "pk")[window])
        annotated = qs.annotate(**{f"_paging_k{i}": F(name) for i, name in enumerate(names)})
        return [(*(getattr(obj, f"_paging_k{i}") for i in range(len(names))), obj) for obj in annotated[window]]

    def _page(self, rows: list[tuple], number, *, after: bool, before: bool) -> ListPage:
        if self.load is not None:
            ids = [r[-1] for r in rows]
            loaded = {obj.pk: obj for obj in self.load(ids)} if ids else {}
            objects = [loaded[pk] for pk in ids if pk in loaded]
        else:
            objects = [r[-1] for r in rows]
        values = [r[:-1] for r in rows]
        return ListPage(objects, number, self,
                        has_more_after=after, has_more_before=before,
                        next_cursor=make_cursor(self.keys, values[-1], FORWARD) if after and values else None,
                        previous_cursor=make_cursor(self.keys, values[0], BACKWARD) if before and values else None)

    def page(self, number: int) -> ListPage:
        """The page ``number`` (1 … ``num_pages``)."""
        bottom = (number - 1) * self.per_page
        rows = self._window(bottom, self.per_page + 1)
        after = len(rows) > self.per_page
        return self._page(rows[: self.per_page], number, after=after, before=number > 1)

    def get_page(self, number) -> ListPage:
        """Like ``Paginator.get_page``: not a number → the first page, out of range → the last.

        The first page is read before the count: when the list fits on it, its rows are the count
        and the count's query is not run (a teacher's few courses: one query less per request)."""
        self._narrow()
        try:
            number = int(number)
        except (TypeError, ValueError, OverflowError):
            number = 1
        if number == 1 and not hasattr(self, "_count") and self._split() is None:
            rows = self._window(0, self.per_page + 1)
            after = len(rows) > self.per_page
            if not after:
                self._count = min(len(rows), self.cap + 1)  # bounded like the count it replaces
            return self._page(rows[: self.per_page], 1, after=after, before=False)
        if not 1 <= number <= self.num_pages:
            number = self.num_pages
        return self.page(number)

    def cursor_page(self, cursor: str) -> ListPage:
        """The page after (or before) a cursor's boundary row; ``InvalidCursor`` if it is not ours."""
        direction, values = read_cursor(self.keys, cursor)
        self._narrow()
        reverse = direction == BACKWARD
        ordered = self.qs.order_by(*(k.order_by(reverse=True) for k in self.keys)) if reverse else self.qs
        lead = self._foreign_nulls(reverse)
        if lead is not None:  # each segment's rows are all NULL or all not NULL there (``_segments``)
            ordered = self.qs.order_by(*self._plain(lead, reverse))
        want = self.per_page + 1
        rows = []
        for segment in _segments(self.qs, self.keys, values, reverse):
            rows += self._ids(ordered.filter(segment), slice(0, want - len(rows)))
            if len(rows) >= want:
                break
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if reverse:
            rows.reverse()
            if not more:  # back at the start of the list: it is page 1 (full, even if rows were deleted)
                return self.page(1)
            return self._page(rows, None, after=True, before=True)
        return self._page(rows, None, after=more, before=True)


def paginate(qs: QuerySet, per_page: int, number=None, cursor: str | None = None, *,
             load: Callable[[list], Iterable] | None = None, page_first: bool = False) -> ListPage:
    """The page ``number`` (clamped like ``Paginator.get_page``) of ``qs``, or the page a
    ``cursor`` points to (``InvalidCursor`` if forged or stale); ``page_first``/``load``: see
    ``ListPaginator``."""
    paginator = ListPaginator(qs, per_page, load, page_first=page_first)
    if cursor:
        return paginator.cursor_page(cursor)
    return paginator.get_page(number)


def paginate_request(request, qs: QuerySet, per_page: int, *,
                     load: Callable[[list], Iterable] | None = None, page_first: bool = False) -> ListPage:
    """``paginate`` with ``?page=`` / ``?cursor=`` of a page's request. A bad cursor does not
    fail the page: it shows the first page with a message saying why."""
    cursor = request.GET.get("cursor") or None
    try:
        return paginate(qs, per_page, request.GET.get("page"), cursor, load=load, page_first=page_first)
    except InvalidCursor as exc:
        messages.warning(request, exc.message)
        return paginate(qs, per_page, 1, load=load, page_first=page_first)
