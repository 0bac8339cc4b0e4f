"""Who may issue and revoke certificates: the admins of the issuing unit (and of the units above it)."""

from __future__ import annotations

import rules


@rules.predicate
def issues_for(user, unit) -> bool:
    return bool(user and user.is_authenticated and unit is not None and user.administers(unit))


rules.add_perm("awards.issue", issues_for)
