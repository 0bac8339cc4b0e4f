"""Who may do what in the organisation tree (predicates of the ``rules`` library).

Scope is enforced twice: querysets start from ``Unit.objects.visible_to(user)``
and ``User.objects`` filtered by ``users_visible_to``; object checks go through
these predicates.
"""

from __future__ import annotations

import rules
from django.db.models import Exists, OuterRef

from orgs.models import Unit


@rules.predicate
def is_system_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_superuser)


@rules.predicate
def is_any_admin(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.admin_units()))


@rules.predicate
def administers_unit(user, unit) -> bool:
    """The user is an admin of this unit or of one above it."""
    if not (user and user.is_authenticated) or unit is None:
        return False
    return user.administers(unit)


@rules.predicate
def administers_parent_of_unit(user, unit) -> bool:
    """A unit is changed (renamed, moved, deleted) by the admins above it."""
    if not (user and user.is_authenticated) or unit is None:
        return False
    if user.is_superuser:
        return True
    return unit.parent is not None and user.administers(unit.parent)


@rules.predicate
def administers_user(user, other) -> bool:
    """An admin manages a person when one of that person's units lies in his subtree."""
    if not (user and user.is_authenticated) or other is None:
        return False
    if user.is_superuser:
        return True
    if other.is_superuser:
        return False  # only a system admin manages a system admin
    memberships = _all_memberships(other)
    return bool(memberships) and all(user.administers(m.unit) for m in memberships)


@rules.predicate
def sees_user(user, other) -> bool:
    """An admin sees a person with at least one membership in his subtree."""
    if not (user and user.is_authenticated) or other is None:
        return False
    if user.is_superuser:
        return True
    return any(user.administers(m.unit) for m in _all_memberships(other))


def _all_memberships(other):
    """Every membership, also in deactivated units (memberships_cached skips those)."""
    cache = getattr(other, "_all_memberships_cache", None)
    if cache is None:
        cache = list(other.memberships.select_related("unit"))
        other._all_memberships_cache = cache
    return cache


rules.add_perm("orgs.manage", is_any_admin)
rules.add_perm("orgs.view_unit", administers_unit)
# Name, code and order: any admin of the unit, his own top unit included.
rules.add_perm("orgs.change_unit", administers_unit)
# Parent and active flag: only the admins above it (nobody moves or switches off his own top unit).
rules.add_perm("orgs.move_unit", administers_parent_of_unit)
rules.add_perm("orgs.add_child_unit", administers_unit)
rules.add_perm("orgs.view_user", sees_user)
rules.add_perm("orgs.change_user", administers_user)
rules.add_perm("orgs.import", is_any_admin)


def users_visible_to(user):
    """Users an admin may see: everyone with a membership in his subtree."""
    from orgs.models import User

    if not user.is_authenticated:
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    from orgs.models import Membership

    # IN (subquery), not a correlated EXISTS: SQLite re-ran the EXISTS, with its subquery of units,
    # for each of a province's 120,000 users (the users page took minutes); as a semi-join both
    # databases read the scope's memberships once.
    if users_cover_every_unit(user):
        # A province admin of a one-province installation: every unit is in his subtree, so
        # "a membership in his subtree" is "a membership". Checked per user through the
        # membership's unit, it cost a province's users page a unit lookup per user (the
        # bounded count reads 10,001 of them); this is an index-only probe of memberships.
        # EXISTS, not IN: SQLite would first copy every membership's user into a temporary
        # index; probed per person it stops with the page (both plan it as a semi-join on PostgreSQL).
        return User.objects.filter(Exists(Membership.objects.filter(user=OuterRef("pk"))))
    units = Unit.objects.visible_to(user)
    return User.objects.filter(pk__in=Membership.objects.filter(unit__in=units).values("user_id"))


def users_cover_every_unit(user) -> bool:
    """Whether the admin's subtree holds every unit: he administers a top unit (no parent) and
    there is no other top unit (every unit lies under a top unit). One indexed query, and only
    for the admins of a top unit."""
    cached = getattr(user, "_covers_every_unit", None)
    if cached is None:
        roots = {u.pk for u in user.admin_units() if u.parent_id is None}
        cached = bool(roots) and not Unit.objects.filter(parent__isnull=True).exclude(pk__in=roots).exists()
        user._covers_every_unit = cached
    return cached
