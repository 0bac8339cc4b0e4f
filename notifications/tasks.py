"""Background tasks of the notifications app (django-tasks). Thin: take ids, call a service.

``send_emails`` is enqueued after the transaction that created the notifications commits;
``send_reminders`` runs periodically (jingpinke.periodic.REGISTRY, hourly).
"""

from __future__ import annotations

from django_tasks import task


@task()
def send_emails(notification_ids: list[int]) -> dict:
    """Mail these notifications (those not mailed yet, to recipients with an e-mail address)."""
    from notifications.services import send_emails as send

    return send(notification_ids)


@task()
def send_reminders() -> dict:
    """Deadline reminders due now (each reaches a user once), then the retry of unsent mails."""
    from notifications.services import retry_unsent_emails, send_deadline_reminders
    from review.notify import send_review_reminders

    counts = send_deadline_reminders()
    counts["review"] = send_review_reminders()  # experts with unsubmitted sheets, 24 h before a round closes
    counts["emails"] = retry_unsent_emails()
    return counts
