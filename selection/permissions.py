"""Who may act on entries (predicates of the ``rules`` library).

- an entry is decided by the admins of the unit that holds it (and of the units above it,
  who may act in its place, as the national platform allows a higher level to help);
- a unit's confirmation is unlocked, and its deadline reopened, only from above: by an admin of
  a unit strictly above it.
Querysets start from ``services.entries_for(user)``: the entries held by units the user
administers.
"""

from __future__ import annotations

import rules


@rules.predicate
def decides_entry(user, entry) -> bool:
    return bool(user and user.is_authenticated and entry is not None and user.administers(entry.unit))


@rules.predicate
def above_unit(user, unit) -> bool:
    if not (user and user.is_authenticated and unit is not None):
        return False
    if user.is_system_admin:
        return True
    return any(unit.is_within(u) and u.pk != unit.pk for u in user.admin_units())


rules.add_perm("selection.decide_entry", decides_entry)
# An entry's detail and its full timeline: the same admins (the scope of ``services.entries_for``).
rules.add_perm("selection.view_entry", decides_entry)
rules.add_perm("selection.confirm_unit", rules.predicate(lambda user, unit: bool(
    user and user.is_authenticated and unit is not None and user.administers(unit))))
rules.add_perm("selection.unlock_unit", above_unit)
rules.add_perm("selection.reopen_unit", above_unit)
# A unit's desk, standing, summary table and progress board: its admins and those above.
rules.add_perm("selection.view_unit", rules.predicate(lambda user, unit: bool(
    user and user.is_authenticated and unit is not None and user.administers(unit))))
