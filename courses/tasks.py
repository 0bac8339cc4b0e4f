"""Background tasks of the courses app (django-tasks). Thin: take ids, call a domain function."""

from __future__ import annotations

from django_tasks import task


@task()
def reevaluate_campaign(campaign_id: int) -> int:
    """Judge every resource of the campaign's courses against its current slots and specs."""
    from courses.services import reevaluate_campaign as run

    return run(campaign_id)
