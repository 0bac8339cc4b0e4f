"""Background work of originality (django-tasks). Thin."""

from __future__ import annotations

from django_tasks import task


@task()
def check_file(stored_file_id: str) -> dict:
    from originality.services import check_file as check

    return check(stored_file_id)
