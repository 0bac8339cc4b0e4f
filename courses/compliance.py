"""``Course.compliance``: the worst automatic check status among a course's files, stored on the
course so that lists filter and sort on an indexed column instead of four subqueries per row.

It is recomputed in SQL (one UPDATE) whenever a course's files change:
- a ``Resource`` saved or deleted (attach, replace, restore, remove, emptied slots, a deleted
  课时 or course) → ``courses.signals`` (post_save/post_delete);
- checks re-judged with ``QuerySet.update`` (``courses.services._save_rejudged``: a probe
  finished, a spec changed) → called there explicitly.
Code that writes ``Resource.status`` with ``update()`` or ``bulk_create`` elsewhere must call
``refresh`` itself. Migration 0002 fills the column for existing rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, CharField, Exists, OuterRef, QuerySet, Value, When

from courses.models import CheckStatus, Compliance, Course, Resource

# Worst first: the first status present among the files is the course's result.
ORDER = (Compliance.FAIL, Compliance.PENDING, Compliance.WARN, Compliance.PASS)
STATUSES = (CheckStatus.FAIL, CheckStatus.PENDING, CheckStatus.WARN)  # a file's status → the same word


def of_statuses(statuses: Iterable[str]) -> str:
    """The compliance of a course whose files have these check statuses (what ``expression``
    computes in SQL), for code that creates courses with their files in bulk."""
    present = set(statuses)
    for s in STATUSES:
        if s.value in present:
            return s.value
    return Compliance.PASS.value if present else Compliance.NONE.value


def expression(course_ref: str = "pk") -> Case:
    """The compliance of the course ``course_ref`` (an outer reference) from its resources."""
    files = Resource.objects.filter(period__course_id=OuterRef(course_ref))
    return Case(*(When(Exists(files.filter(status=s.value)), then=Value(s.value)) for s in STATUSES),
                When(Exists(files), then=Value(Compliance.PASS.value)),
                default=Value(Compliance.NONE.value), output_field=CharField())


def refresh(courses: QuerySet[Course] | Iterable[int]) -> int:
    """Recompute ``compliance`` of the given courses (a queryset or ids); one UPDATE statement,
    touching only rows whose value changes. Returns how many changed."""
    qs = courses if isinstance(courses, QuerySet) else Course.objects.filter(pk__in=list(courses))
    expr = expression()
    return qs.exclude(compliance=expr).update(compliance=expr)
