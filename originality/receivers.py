"""After a file's compliance check (media.signals.file_probed), queue its originality check."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from media.signals import file_probed

log = logging.getLogger(__name__)


@receiver(file_probed, dispatch_uid="originality.check_after_probe")
def check_after_probe(sender, stored_file, **kwargs):
    if stored_file.probe_status != "done" or not getattr(settings, "ORIGINALITY_ON_PROBE", True):
        return
    from originality.tasks import check_file

    try:
        transaction.on_commit(lambda: check_file.enqueue(str(stored_file.pk)))
    except Exception:  # noqa: BLE001 - the probe's result stands whatever happens here
        log.exception("queueing the originality check of %s failed", stored_file.pk)
