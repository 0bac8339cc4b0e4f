"""Background tasks of the exports app (django-tasks). Thin: take ids, call a domain function."""

from __future__ import annotations

from django_tasks import task


@task()
def run_export(job_id: int) -> int:
    """Write the job's workbook into its stored file; returns the rows written."""
    from exports.services import run

    return run(job_id).rows_done


@task()
def cleanup_exports() -> dict:
    """Periodic: remove export files older than JPK_EXPORT_KEEP_HOURS."""
    from exports.services import cleanup

    return cleanup()
