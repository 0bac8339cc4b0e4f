"""Background work of certificates (django-tasks). Thin: take ids, call the use case."""

from __future__ import annotations

from django_tasks import task


@task()
def issue_certificates(job_id: int) -> int:
    from awards.services import run_issue

    return run_issue(job_id).created
