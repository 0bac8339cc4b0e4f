"""After a file's compliance check (media.signals.file_probed), check its originality.

A video's check decodes every frame (seconds to minutes): it is a task of its own
(``originality.tasks.check_file``), queued when the probe's result is committed. Any other file's
check is an index lookup or two (its hash; a document's text signature), cheaper than a trip
through the task queue (claim, run, result: five statements): it runs at once, in the probe's task.
If it fails, the probe's result stands and the check is queued instead (tried again by a worker).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from media.signals import file_probed

log = logging.getLogger(__name__)


def _enqueue(file_id) -> None:
    from originality.tasks import check_file

    try:
        check_file.enqueue(str(file_id))
    except Exception:  # noqa: BLE001 - the probe's result stands whatever happens here
        log.exception("queueing the originality check of %s failed", file_id)


def _check_now(stored_file) -> None:
    from originality.services import check_file

    try:
        check_file(stored_file)  # as the task would: its own statements, each committed
    except Exception:  # noqa: BLE001 - the probe's result stands; a worker tries again
        log.exception("originality check of %s failed; queued to be tried again", stored_file.pk)
        _enqueue(stored_file.pk)


@receiver(file_probed, dispatch_uid="originality.check_after_probe")
def check_after_probe(sender, stored_file, **kwargs):
    if stored_file.probe_status != "done" or not getattr(settings, "ORIGINALITY_ON_PROBE", True):
        return
    from originality.services import VIDEO_KINDS

    if stored_file.kind in VIDEO_KINDS:
        transaction.on_commit(lambda: _enqueue(stored_file.pk))
    else:
        transaction.on_commit(lambda: _check_now(stored_file))
