"""Certificates follow the award: when a level's award is taken back from an entry (取消本级荣誉,
or the entry returned for fixes), its valid certificates are revoked with that reason, in the same
transaction, and the revocation is in the entry's history."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils.translation import gettext as _

from selection.signals import entry_decided

log = logging.getLogger(__name__)


@receiver(entry_decided, dispatch_uid="awards.revoke_on_unaward")
def revoke_on_unaward(sender, entry, action, actor, before=None, now=None, **kwargs):
    if action == "unaward" or (action == "return" and (before or {}).get("awarded")):
        try:
            revoke_entry_certificates(entry, actor, _("本级荣誉已取消") if action == "unaward" else _("课程已退回修改"),
                                      now=now)
        except Exception:  # noqa: BLE001 - a receiver must not undo the decision (selection.signals)
            log.exception("revoking the certificates of entry %s failed", entry.pk)


def revoke_entry_certificates(entry, actor, reason: str, now=None) -> int:
    from awards.models import Certificate
    from awards.services import mark_revoked

    certs = list(Certificate.objects.select_for_update().filter(entry=entry, revoked_at__isnull=True)
                 .select_related("issuer", "level", "entry__course"))
    for cert in certs:
        mark_revoked(cert, actor, reason, now)
    return len(certs)
