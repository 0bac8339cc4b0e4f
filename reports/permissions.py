"""Who may open the dashboards (统计): admins of a county, city or province, and system admins.
Which unit's dashboard is decided by ``selection.view_unit`` (his units and those below them);
every query of ``reports.services`` is narrowed to that unit's subtree."""

from __future__ import annotations

import rules

BOARD_KINDS = ("county", "city", "province")


@rules.predicate
def has_dashboard(user) -> bool:
    if not (user and user.is_authenticated):
        return False
    return user.is_system_admin or any(u.kind in BOARD_KINDS for u in user.admin_units())


rules.add_perm("reports.view_dashboard", has_dashboard)
