"""Receivers of what the workflow announces (connected in ``NotificationsConfig.ready``).

Notifications sit above selection: selection sends ``selection.signals.entry_decided`` and never
imports this app; here the decision becomes notices to the people concerned.
"""

from __future__ import annotations

from django.dispatch import receiver

from notifications import services
from selection.signals import entry_decided


@receiver(entry_decided, dispatch_uid="notifications.entry_decided")
def on_entry_decided(sender, entry, action, actor, before=None, now=None, **kwargs):
    services.entry_decided(entry, action, actor, before=before, now=now,
                           next_entry=kwargs.get("next_entry", services.UNKNOWN))
