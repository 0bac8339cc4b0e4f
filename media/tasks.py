"""Background tasks of the media app (django-tasks). Thin: take ids, call a domain function.

Two independent parts: the probe of a finished file (``probe_file``, checks) and the periodic
cleanup of stale uploads (``cleanup_stale_uploads``, uploads). Keep them in their own sections.
"""

from __future__ import annotations

from django_tasks import task

# --- uploads: periodic cleanup (run by jingpinke.periodic / manage.py run_periodic) -------------


@task()
def cleanup_stale_uploads() -> dict:
    """Remove partial uploads idle longer than JPK_UPLOAD_EXPIRE_HOURS (default 24 h), and abort
    direct-to-store multipart uploads as stale (media.multipart)."""
    from media.multipart import cleanup_stale_multipart
    from media.services import cleanup_stale_uploads as cleanup

    return {**cleanup(), **cleanup_stale_multipart()}


# --- checks: probe of a finished file ----------------------------------------------------------


@task(takes_context=True)
def probe_file(context, file_id: str) -> str:
    """Record a finished file's sha256 (the upload leaves it to this task), measure the file
    (media.probe), keep its frames and text, then tell the users of the file
    (media.signals.file_probed). Safe to run again: it starts over (the sha256 is kept). Run again
    after its worker died (``attempt`` > 1) on a file already probed, it tells the users again:
    the worker may have died before they had all done their part (the originality check of a
    document runs in this task)."""
    from jingpinke.prepared import prepared
    from media.services import run_probe

    with prepared():  # keyed: the file, its uploads, resources and matches by id (jingpinke/prepared.py)
        return run_probe(file_id, retried=context.attempt > 1)


@task()
def requeue_stuck_probes() -> dict:
    """Periodic: probe again files whose check never finished (see media.services)."""
    from media.services import requeue_stuck_probes as requeue

    return requeue()


# --- blind copies: the metadata-free copy experts are served (media.clean) -----------------------


@task()
def make_clean_copy(stored_file_id: str) -> str:
    """Make the file's blind copy once (media.services.make_clean_copy); returns "ok", the reason
    it cannot be made, or "missing". The video's title card may still show the teacher (accepted)."""
    from media.services import make_clean_copy as make

    copy = make(stored_file_id)
    if copy is None:
        return "missing"
    return "ok" if copy.ok else copy.error
