"""Who may do what with a declared course (predicates of the ``rules`` library).

Scope is enforced twice: every query starts from ``Course.objects.visible_to(user)`` (404 outside
it), and object checks go through these predicates (403 for a course one may see but not change).

- the lead teacher (主讲教师) declares: edits while the course is editable, submits, withdraws,
  deletes a draft that never went to the school (the state is checked by ``rules.may_delete``);
- team members see the course and its report;
- administrators of the course's school or a unit above it see the course and its report, read only;
- anyone with a teacher membership may start a course.
"""

from __future__ import annotations

import rules

from courses import rules as course_rules


def _logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def is_lead_teacher(user, course) -> bool:
    return _logged_in(user) and course is not None and course.lead_teacher_id == user.pk


@rules.predicate
def is_team_member(user, course) -> bool:
    if not _logged_in(user) or course is None:
        return False
    cached = getattr(course, "_member_ids", None)
    if cached is None:
        cached = set(course.members.values_list("user_id", flat=True))
        course._member_ids = cached
    return user.pk in cached


@rules.predicate
def administers_school(user, course) -> bool:
    return _logged_in(user) and course is not None and user.administers(course.school)


@rules.predicate
def course_is_editable(user, course) -> bool:
    return course is not None and course_rules.is_editable(course.status)


@rules.predicate
def is_teacher(user) -> bool:
    return _logged_in(user) and bool(user.teacher_units())


rules.add_perm("courses.view_course", is_lead_teacher | is_team_member | administers_school)
rules.add_perm("courses.change_course", is_lead_teacher & course_is_editable)
rules.add_perm("courses.submit_course", is_lead_teacher)
rules.add_perm("courses.withdraw_course", is_lead_teacher)
rules.add_perm("courses.delete_course", is_lead_teacher)
rules.add_perm("courses.add_course", is_teacher)
