"""Who may do what with contact forms (predicates of the ``rules`` library).

- a unit's form (its people and its scan) is seen by the unit's admins and those above it;
- it is filled, edited and filed by the unit's own admins (a system admin may help);
- the level above (an admin strictly above the unit) sees the board of its reporting units,
  exports them, and reopens a unit after its deadline.
Querysets start from ``ContactForm.objects.visible_to(user)``.
"""

from __future__ import annotations

import rules


def _logged_in(user) -> bool:
    return bool(user and user.is_authenticated)


@rules.predicate
def sees_unit(user, unit) -> bool:
    return _logged_in(user) and unit is not None and user.administers(unit)


@rules.predicate
def fills_for_unit(user, unit) -> bool:
    if not _logged_in(user) or unit is None:
        return False
    return user.is_superuser or any(u.pk == unit.pk for u in user.admin_units())


@rules.predicate
def above_unit(user, unit) -> bool:
    if not _logged_in(user) or unit is None:
        return False
    if user.is_superuser:
        return True
    return any(unit.is_within(u) and u.pk != unit.pk for u in user.admin_units())


rules.add_perm("contacts.view_form", sees_unit)
rules.add_perm("contacts.fill_form", fills_for_unit)
# The board, the export and reopening: on the organiser (board) or a reporting unit (reopen).
rules.add_perm("contacts.view_board", sees_unit)
rules.add_perm("contacts.reopen_unit", above_unit)
