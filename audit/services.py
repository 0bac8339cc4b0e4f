"""``record()``: call it inside the same transaction as the change it logs."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
import json

from audit.models import Event


def _plain(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def record(actor, action: str, target=None, *, before=None, after=None, reason: str = "", unit=None) -> Event:
    """Append one event. ``unit`` scopes it (an admin sees events of his subtree)."""
    if unit is None and target is not None:
        unit = getattr(target, "unit", None) if not hasattr(target, "path") else target
    return Event.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=(getattr(actor, "display_name", "") or str(actor or "")) if actor else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        unit_path=getattr(unit, "path", "") or "",
        before=_plain(before),
        after=_plain(after),
        reason=reason or "",
    )
