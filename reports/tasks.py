"""Background tasks of the reports app (django-tasks). Thin: take ids, call a domain function."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_snapshot(campaign_id: int, unit_id: int) -> str:
    """Recompute the dashboard aggregates of one campaign and unit; returns when they date from."""
    from reports.services import refresh_snapshot as refresh

    snapshot = refresh(campaign_id, unit_id)
    return snapshot.computed_at.isoformat() if snapshot else "missing"
