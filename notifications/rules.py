"""Pure decisions of the notifications app: plain data in, decisions out. No ORM, no I/O.

- ``window_for`` / ``due_deadlines``: which deadline reminder is due now. A deadline gets one
  reminder per window it enters (``DEADLINE_WINDOWS``: 3 days, then 1 day before); deadlines that
  fall on the same moment (e.g. recommend and confirm by the same day) share one reminder;
- ``unit_reminders``: the recommendation and confirmation reminders a unit's admins need now
  (nothing once the unit has confirmed its summary table; a school only when it holds entries at
  its level);
- ``contact_form_reminder``: the contact-form reminder of a unit that files one (app contacts) and
  has not filed it yet;
- ``draft_reminder``: the reminder the lead teacher of a course not yet submitted needs now;
- ``resubmit_deadline``: by when a returned course must be back (the earlier of the school's
  deadline and the returning unit's);
- ``remind_decision``: the one-click reminder of the level above reaches a unit at most once per
  ``REMIND_INTERVAL``;
- the dedupe keys that make each periodic reminder reach a user once.

The windows and the interval are the same for every campaign (they are about people, not about a
notice), so they are constants here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")

# A deadline reminder goes out when a deadline is this close, once per window (widest first).
DEADLINE_WINDOWS: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
# The level above may remind the same unit at most once in this interval.
REMIND_INTERVAL = timedelta(hours=1)

# The deadlines of a unit at its level, in the order they are named.
DEADLINE_FIELDS = ("deadline", "confirm_deadline", "contact_form_deadline")
EDITABLE_COURSE_STATES = ("draft", "withdrawn", "returned")


def local_text(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M")


# --- deadlines ----------------------------------------------------------------------------------
def window_for(now: datetime, deadline: datetime | None,
               windows: Sequence[timedelta] = DEADLINE_WINDOWS) -> timedelta | None:
    """The narrowest window the deadline lies in, seen from ``now``; None when there is no
    deadline, it has passed, or it is further away than the widest window."""
    if deadline is None or not windows or deadline < now:
        return None
    left = deadline - now
    inside = [w for w in windows if left <= w]
    return min(inside) if inside else None


@dataclass(frozen=True)
class Due:
    """A reminder due now: the deadlines it names (fields falling on the same moment), the moment,
    and the window it was sent for."""

    fields: tuple[str, ...]
    deadline: datetime
    window: timedelta

    @property
    def window_hours(self) -> int:
        return int(self.window.total_seconds() // 3600)


def due_deadlines(deadlines: Mapping[str, datetime | None], now: datetime,
                  windows: Sequence[timedelta] = DEADLINE_WINDOWS) -> list[Due]:
    """One ``Due`` per distinct deadline moment inside a window, soonest first."""
    by_moment: dict[datetime, list[str]] = {}
    for name in DEADLINE_FIELDS:
        moment = deadlines.get(name)
        if moment is not None and window_for(now, moment, windows) is not None:
            by_moment.setdefault(moment, []).append(name)
    return [Due(tuple(names), moment, window_for(now, moment, windows))
            for moment, names in sorted(by_moment.items())]


@dataclass(frozen=True)
class UnitFacts:
    """A unit at its level: its kind, whether it confirmed its summary table, whether it holds
    entries there, and its effective deadlines (``confirm_deadline`` None: same as ``deadline``)."""

    kind: str
    confirmed: bool
    holds_entries: bool
    deadlines: Mapping[str, datetime | None]


def unit_reminders(facts: UnitFacts, now: datetime, windows: Sequence[timedelta] = DEADLINE_WINDOWS) -> list[Due]:
    """The recommendation and confirmation reminders the unit's admins need now. A confirmed unit
    has done its part; a school with nothing at its level has nothing to decide. (The contact
    form has its own reminder: ``contact_form_reminder``.)"""
    if facts.confirmed or (facts.kind == "school" and not facts.holds_entries):
        return []
    deadlines = {"deadline": facts.deadlines.get("deadline"),
                 "confirm_deadline": facts.deadlines.get("confirm_deadline") or facts.deadlines.get("deadline")}
    return due_deadlines(deadlines, now, windows)


def contact_form_reminder(filed: bool, deadline: datetime | None, now: datetime,
                          windows: Sequence[timedelta] = DEADLINE_WINDOWS) -> Due | None:
    """A unit that files a contact form and has not filed it yet, with its deadline near."""
    window = None if filed else window_for(now, deadline, windows)
    return Due(("contact_form_deadline",), deadline, window) if window is not None else None


def draft_reminder(status: str, deadline: datetime | None, now: datetime,
                   windows: Sequence[timedelta] = DEADLINE_WINDOWS) -> Due | None:
    """A course its teacher still has to submit (draft, withdrawn, returned) and whose deadline is
    near: the reminder due now, else None."""
    if status not in EDITABLE_COURSE_STATES:
        return None
    window = window_for(now, deadline, windows)
    return Due(("deadline",), deadline, window) if window is not None else None


def resubmit_deadline(school_deadline: datetime | None, unit_deadline: datetime | None) -> datetime | None:
    """A returned course must pass the school's deadline (to be submitted) and the returning
    unit's (to be taken back): the earlier one; None when neither is set."""
    known = [d for d in (school_deadline, unit_deadline) if d is not None]
    return min(known) if known else None


def deadline_key(level_id: int, unit_id: int, due: Due) -> str:
    return f"deadline:{level_id}:{unit_id}:{'+'.join(due.fields)}:{due.deadline.astimezone(TZ):%Y%m%d%H%M}:{due.window_hours}h"


def draft_key(course_id: int, due: Due) -> str:
    return f"draft:{course_id}:{due.deadline.astimezone(TZ):%Y%m%d%H%M}:{due.window_hours}h"


# --- the one-click reminder of the level above --------------------------------------------------
@dataclass(frozen=True)
class RemindDecision:
    ok: bool
    message: str = ""
    retry_at: datetime | None = None


def remind_decision(unit_name: str, last_sent_at: datetime | None, now: datetime,
                    interval: timedelta = REMIND_INTERVAL) -> RemindDecision:
    """A unit is reminded at most once per ``interval``; the refusal says when it was last
    reminded and from when it may be reminded again."""
    if last_sent_at is None or now - last_sent_at >= interval:
        return RemindDecision(True)
    retry_at = last_sent_at + interval
    minutes = max(1, int(interval.total_seconds() // 60))
    span = _("%(h)d 小时") % {"h": minutes // 60} if minutes % 60 == 0 else _("%(m)d 分钟") % {"m": minutes}
    return RemindDecision(False, _("已于 %(when)s 提醒过%(unit)s，%(span)s内不重复提醒，%(retry)s 后可以再次提醒。") % {
        "when": local_text(last_sent_at), "unit": unit_name, "span": span, "retry": local_text(retry_at)}, retry_at)
