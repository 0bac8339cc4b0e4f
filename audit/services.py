"""``record()``: call it inside the same transaction as the change it logs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
import json

from audit.models import Event

_batch: ContextVar[list[Event] | None] = ContextVar("audit_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Inside the block ``record`` keeps its events and they are written at its end in one INSERT,
    in the order they were recorded (a use case that records several, such as a submission: the
    school's entry and the course). A block that fails writes none (its transaction is rolled back
    anyway). Call it inside the transaction of the change."""
    events: list[Event] = []
    token = _batch.set(events)
    try:
        yield
    finally:
        _batch.reset(token)
    if events:
        Event.objects.bulk_create(events)


def _plain(value: Any) -> Any:
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def record(actor, action: str, target=None, *, before=None, after=None, reason: str = "", unit=None) -> Event:
    """Append one event. ``unit`` scopes it (an admin sees events of his subtree). Inside ``batch``
    the event is returned unsaved and written when the block ends."""
    if unit is None and target is not None:
        unit = getattr(target, "unit", None) if not hasattr(target, "path") else target
    event = Event(
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
    pending = _batch.get()
    if pending is not None:  # written at the end of the ``batch`` block
        pending.append(event)
    else:
        event.save(force_insert=True)
    return event
