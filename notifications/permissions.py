"""Who may do what with notifications (predicates of the ``rules`` library).

- a notification is read (and marked read) only by its recipient; querysets start from
  ``Notification.objects.for_user(user)``, so another's answers 404;
- the one-click reminder goes from a county, city or province to its own direct children: only
  an admin of that very unit (or a system admin) may send it. A city admin may look at a county's
  board, but reminding that county's schools is the county's job.
"""

from __future__ import annotations

import rules


@rules.predicate
def is_recipient(user, notification) -> bool:
    return bool(user and user.is_authenticated and notification is not None
                and notification.recipient_id == user.pk)


@rules.predicate
def reminds_children(user, unit) -> bool:
    if not (user and user.is_authenticated and unit is not None) or unit.kind == "school":
        return False
    if user.is_system_admin:
        return True
    return any(u.pk == unit.pk for u in user.admin_units())


rules.add_perm("notifications.read_notification", is_recipient)
rules.add_perm("notifications.remind_children", reminds_children)
