"""Re-evaluate resource checks when a probe finishes or a campaign spec changes, and announce a
course that fails its checks since its requirements changed.

- ``checks_failed`` (sent by ``courses.services``): a course whose checks passed fails them after
  its campaign's requirements changed (a severity, a spec, a slot; re-judged from the stored probe
  results). Keyword arguments: ``course`` (courses.models.Course) and ``problems`` (Chinese lines,
  "第1课时“微课视频”：音频 没有声音，要求 AAC"). notifications listens (notifications.checks);

- a ``Resource`` saved or deleted → the course's ``compliance`` column is recomputed
  (``courses.compliance``);
- ``media.signals.file_probed`` → every resource using that file is judged again, now;
- a ``ProductionSpec`` or ``ResourceSlot`` saved or deleted → after the transaction commits, one
  ``courses.tasks.reevaluate_campaign`` per campaign is enqueued (set_specs replaces all rows of a
  category: many signals, one task). Pages and submission also re-check stale verdicts (see
  ``courses.services.package``), so a spec created by ``bulk_create`` without signals is caught.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from campaigns.models import CampaignCategory, ProductionSpec, ResourceSlot
from media.signals import file_probed

log = logging.getLogger(__name__)

checks_failed = Signal()


@receiver([post_save, post_delete], sender="courses.Resource", dispatch_uid="courses.resource_compliance")
def on_resource_changed(sender, instance, **kwargs):
    """A file attached, replaced or removed: the course's ``compliance`` follows (courses.compliance)."""
    from courses.compliance import refresh
    from courses.models import Course, Period

    refresh(Course.objects.filter(pk__in=Period.objects.filter(pk=instance.period_id).values("course_id")))


@receiver(file_probed, dispatch_uid="courses.reevaluate_file")
def on_file_probed(sender, stored_file, **kwargs):
    from courses.services import reevaluate_file

    reevaluate_file(stored_file)


def _campaign_id(instance) -> int | None:
    cached = instance._state.fields_cache.get("campaign_category")
    if cached is not None:
        return cached.campaign_id
    return (CampaignCategory.objects.filter(pk=instance.campaign_category_id)
            .values_list("campaign_id", flat=True).first())


def _already_queued(campaign_id: int) -> bool:
    """One task per campaign and transaction: look at the callbacks waiting for this commit
    (Django clears them on rollback, so nothing stays marked)."""
    connection = transaction.get_connection()
    waiting = getattr(connection, "run_on_commit", None) or []
    return any(getattr(item[1], "jpk_campaign_id", None) == campaign_id for item in waiting)


def _enqueue(campaign_id: int) -> None:
    if _already_queued(campaign_id):
        return

    def run():
        from courses.tasks import reevaluate_campaign

        try:
            reevaluate_campaign.enqueue(campaign_id)
        except Exception:  # a queue that is down must not undo the spec change; pages re-check anyway
            log.exception("could not enqueue reevaluate_campaign(%s)", campaign_id)

    run.jpk_campaign_id = campaign_id
    transaction.on_commit(run)


@receiver(post_save, sender=ProductionSpec, dispatch_uid="courses.spec_saved")
@receiver(post_delete, sender=ProductionSpec, dispatch_uid="courses.spec_deleted")
@receiver(post_save, sender=ResourceSlot, dispatch_uid="courses.slot_saved")
@receiver(post_delete, sender=ResourceSlot, dispatch_uid="courses.slot_deleted")
def on_requirements_changed(sender, instance, **kwargs):
    campaign_id = _campaign_id(instance)
    if campaign_id is not None:
        _enqueue(campaign_id)
