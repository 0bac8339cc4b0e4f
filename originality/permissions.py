"""Who may see a match (predicates of the ``rules`` library). Querysets start from
``services.matches_for(user)`` (404 outside it); these predicates back every page.

- the admins of the units a course has reached (an entry held by the unit), and the system admin;
- the experts reviewing the course (the blind page, from their task);
- the course's teacher, for a match with his own earlier file only (information).
Matches of legitimate re-use (``same_owner``) are never shown to admins or experts."""

from __future__ import annotations

import rules


def _logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


def _courses(match):
    cached = getattr(match, "_course_ids", None)
    if cached is None:
        from courses.models import Course

        cached = set(Course.objects.filter(periods__resources__file_id=match.new_file_id).values_list("pk", flat=True))
        match._course_ids = cached
    return cached


@rules.predicate
def is_reuse(user, match) -> bool:
    return match is not None and match.same_owner


@rules.predicate
def reached_admin(user, match) -> bool:
    """An admin of a unit holding an entry of the course (the school once submitted, the county
    once recommended to it, ...)."""
    if not _logged_in(user) or match is None:
        return False
    if user.is_system_admin:
        return True
    units = user.admin_units()
    if not units:
        return False
    from selection.models import Entry

    return Entry.objects.filter(course__in=_courses(match), unit__in=units).exists()


@rules.predicate
def reviews_course(user, match) -> bool:
    if not _logged_in(user) or match is None or not user.is_expert():
        return False
    from review.models import Assignment

    return Assignment.objects.of_expert(user).filter(entry__entry__course__in=_courses(match)).exists()


@rules.predicate
def leads_course(user, match) -> bool:
    if not _logged_in(user) or match is None:
        return False
    from courses.models import Course

    return Course.objects.filter(pk__in=_courses(match), lead_teacher=user).exists()


rules.add_perm("originality.view_match", (~is_reuse & reached_admin) | (is_reuse & leads_course))
rules.add_perm("originality.view_match_blind", ~is_reuse & reviews_course)
rules.add_perm("originality.view_list", rules.predicate(lambda user: _logged_in(user) and (
    user.is_system_admin or bool(user.admin_units()) or bool(user.teacher_units()))))
