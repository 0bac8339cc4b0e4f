"""Who may export the course list (predicates of the ``rules`` library).

The administrators of a school, county, city or province (and system admins): each exports what
his course list shows, the scope being enforced by the list's own query. A job is seen only by its
owner (``services.jobs_for``: anyone else gets 404).
"""

from __future__ import annotations

import rules


@rules.predicate
def administers_a_unit(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.admin_units()))


rules.add_perm("exports.export_courses", administers_a_unit)
