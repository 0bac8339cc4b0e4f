"""Use cases of the notifications app.

- ``notify``: one notification per recipient, e-mailed after the transaction commits by a
  django-tasks task (``tasks.send_emails``), so a failing mail server never undoes the change that
  caused the notification; users without an e-mail address get the in-app notification only;
- ``entry_decided``: run by ``notifications.receivers`` when selection announces a decision on an
  entry (``selection.signals.entry_decided``: return, decline, recommend, undo, award, unaward,
  resubmit): tells the course's lead teacher and team, and on a recommendation the admins of the
  unit that receives it;
- ``send_deadline_reminders``: the periodic reminders (recommendation and confirmation deadlines
  of units near and not yet confirmed; contact forms not yet filed; courses not yet submitted),
  each reaching a user once;
- ``remind_behind``: the one-click reminder of a county, city or province to its children that are
  behind, audited and rate-limited per unit;
- reading: a user's notifications, unread count, mark read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.enums import CampaignStatus
from campaigns.models import Campaign, DeadlineOverride, Level
from contacts import services as contacts
from courses.models import Course
from courses.services import school_deadline
from jingpinke import config
from jingpinke.errors import ServiceError
from jingpinke.sql import Compiled
from notifications import rules, texts
from notifications.models import Kind, Notification, UnitReminder
from orgs.models import Membership, Role, Unit
from selection.models import Entry, UnitLevel
from selection.rules import category_label
from selection.services import as_int, board_units, course_members, deadline_rows, progress

log = logging.getLogger("notifications")

EMAIL_TIMEOUT = 20  # seconds: a mail server that does not answer must not hold the worker
EMAIL_RETRY_AFTER = timedelta(minutes=10)  # unsent mails older than this are retried by the periodic task
EMAIL_RETRY_WITHIN = timedelta(days=2)  # ... if they are younger than this
PAGE_SIZE = 20


# --- creating and mailing ------------------------------------------------------------------------
def notify(recipients: Iterable, kind: str, title: str, body: str, *, link: str = "", campaign=None, entry=None,
           dedupe_key: str = "") -> list[Notification]:
    """One notification per active recipient (each once). With ``dedupe_key``, a recipient who
    already has a notification with that key gets nothing (the database refuses the second row).
    E-mails are sent after the surrounding transaction commits."""
    if dedupe_key:
        created = []
        for values in _each(recipients, kind, title, body, link, campaign, entry, dedupe_key):
            try:
                with transaction.atomic():
                    created.append(Notification.objects.create(**values))
            except IntegrityError:  # sent before (by this run or another scheduler)
                continue
        mail_after_commit([n.pk for n in created if n.recipient.email])
        return created
    return _insert(_rows(recipients, kind, title, body, link=link, campaign=campaign, entry=entry))


def _each(recipients: Iterable, kind, title, body, link, campaign, entry, dedupe_key="") -> Iterable[dict]:
    seen = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        yield {"recipient": user, "kind": kind, "title": title[:200], "body": body, "link": link,
               "campaign": campaign, "entry": entry, "dedupe_key": dedupe_key}


def _rows(recipients: Iterable, kind: str, title: str, body: str, *, link: str = "", campaign=None, entry=None
          ) -> list[Notification]:
    """``notify``'s notifications (without ``dedupe_key``), not saved yet: several of these go into
    one INSERT (``_insert``)."""
    return [Notification(**values) for values in _each(recipients, kind, title, body, link, campaign, entry)]


def _insert(rows: list[Notification]) -> list[Notification]:
    """Save ``_rows``' notifications in one INSERT (a decision tells the lead teacher and the team,
    and on a recommendation the admins of the unit receiving it, at once); mail them after commit."""
    created = Notification.objects.bulk_create(rows) if rows else []
    mail_after_commit([n.pk for n in created if n.recipient.email])
    return created


def mail_after_commit(ids: list[int]) -> None:
    if ids:
        # robust: a queue that is down must not fail the change (the periodic task retries).
        transaction.on_commit(lambda: _enqueue_mail(ids), robust=True)


def _enqueue_mail(ids: list[int]) -> None:
    from notifications.tasks import send_emails  # tasks import this module

    send_emails.enqueue(ids)


def site_url() -> str:
    """Where mails link to: JPK_SITE_URL, else the first trusted origin (set in production), else
    the address ``make run`` serves on."""
    if config.get("JPK_SITE_URL"):
        return config.get("JPK_SITE_URL").rstrip("/")
    origins = list(settings.CSRF_TRUSTED_ORIGINS)
    if origins:
        return origins[0].rstrip("/")
    return f"http://{config.get('JPK_HOST')}:{config.get('JPK_PORT')}"


def _message(n: Notification, connection) -> EmailMessage:
    lines = [n.body]
    if n.link:
        lines += ["", _("查看详情：%(url)s") % {"url": site_url() + n.link}]
    lines += ["", _("（本邮件由基础教育精品课遴选平台自动发送，请勿直接回复。）")]
    return EmailMessage(subject=_("[精品课遴选] %(t)s") % {"t": n.title}, body="\n".join(lines),
                        to=[n.recipient.email], connection=connection)


def send_emails(ids: Iterable[int]) -> dict:
    """Mail the given notifications that are not mailed yet and whose recipient has an address.
    Each one is claimed first (``emailed_at`` set where still empty), so two workers never send it
    twice; a failed send gives the claim back for the retry."""
    rows = (Notification.objects.filter(pk__in=list(ids), emailed_at__isnull=True, recipient__is_active=True)
            .exclude(recipient__email="").select_related("recipient").order_by("pk"))
    sent = failed = 0
    connection = get_connection(timeout=EMAIL_TIMEOUT)
    for n in rows:
        if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            continue
        try:
            _message(n, connection).send()
        except Exception:  # the mail server's problem; the notification stays in the app
            log.exception("could not mail notification %s to %s", n.pk, n.recipient.email)
            Notification.objects.filter(pk=n.pk).update(emailed_at=None)
            failed += 1
        else:
            sent += 1
    return {"sent": sent, "failed": failed}


def retry_unsent_emails(now: datetime | None = None) -> dict:
    """Mail again what could not be mailed (a mail server that was down, a queue that was down)."""
    now = now or timezone.now()
    ids = list(Notification.objects.filter(
        emailed_at__isnull=True, created_at__lte=now - EMAIL_RETRY_AFTER, created_at__gte=now - EMAIL_RETRY_WITHIN,
        recipient__is_active=True).exclude(recipient__email="").values_list("pk", flat=True)[:500])
    return send_emails(ids) if ids else {"sent": 0, "failed": 0}


# --- who --------------------------------------------------------------------------------------------
def team(course) -> list:
    """The course's lead teacher and team members, lead first (the members read once per course
    instance, ``selection.services.course_members``: a decision's answer lists them too)."""
    return [course.lead_teacher, *(m.user for m in course_members(course))]


def unit_admins(unit_ids: Iterable[int]) -> dict[int, list]:
    """The active admins of each unit (of the unit itself, not of the units above it)."""
    result: dict[int, list] = {}
    ids = list(unit_ids)
    for m in _UNIT_ADMINS.instances(ids) if ids else ():
        result.setdefault(m.unit_id, []).append(m.user)
    return result


# compiled once (``jingpinke.sql.Compiled``): every recommendation and undo reads the admins it tells
_UNIT_ADMINS = Compiled(lambda unit_ids: Membership.objects.filter(unit_id__in=unit_ids, role=Role.ADMIN,
                                                                    user__is_active=True)
                        .select_related("user").order_by("unit_id", "id"))


def _others(users: list, actor) -> list:
    """Everyone but the actor (who knows what he just did)."""
    return [u for u in users if getattr(actor, "pk", None) != u.pk]


# --- links ------------------------------------------------------------------------------------------
def course_link(course) -> str:
    return reverse("courses:detail", args=[course.pk])


def entry_link(entry) -> str:
    return reverse("selection:entry", args=[entry.pk])


def desk_link(campaign, unit) -> str:
    return reverse("selection:list") + f"?campaign={campaign.pk}&held_by={unit.pk}"


# --- deadlines ------------------------------------------------------------------------------------
def unit_deadlines(campaign: Campaign, unit: Unit, level: Level) -> dict[str, datetime | None]:
    """The unit's effective deadlines at ``level`` (own, inherited or the campaign's), resolved by
    campaigns.services.deadlines_for like every other deadline check (in a decision, from the
    overrides it read: ``selection.services.deadline_rows``)."""
    for row in deadline_rows(campaign, unit):
        if row.level.pk == level.pk:
            return {name: getattr(row, name) for name in rules.DEADLINE_FIELDS}
    return {name: getattr(level, name) for name in rules.DEADLINE_FIELDS}


def course_deadline(course, returned_entry=None) -> datetime | None:
    """By when the teacher must submit the course: the school's deadline; for a returned course
    also the returning unit's (the earlier one counts)."""
    row = school_deadline(course.campaign, course.school)
    school = row.deadline if row is not None else None
    if returned_entry is None:
        return school
    unit = unit_deadlines(course.campaign, returned_entry.unit, returned_entry.level)["deadline"]
    return rules.resubmit_deadline(school, unit)


# --- decisions on an entry -------------------------------------------------------------------------
UNKNOWN = object()  # ``next_entry`` not given: read it


def entry_decided(entry, action: str, actor, *, before: dict | None = None,
                  now: datetime | None = None, next_entry=UNKNOWN) -> list[Notification]:
    """Tell the people concerned about a decision just saved on ``entry`` (``action``: return,
    decline, recommend, undo, award, unaward, resubmit (the teacher sent a returned course back); ``before``: the entry's state and award before it;
    ``next_entry``: on a recommendation, the entry it created above, or None; read when not given).
    Runs inside the decision's transaction (the signal is sent there); a failure here is logged
    and never undoes the decision."""
    before = before or {}
    if action in ("award", "unaward") and bool(before.get("awarded")) == (action == "award"):
        return []  # nothing changed
    try:
        with transaction.atomic():
            return _entry_decided(entry, action, actor, before.get("state", ""), now or timezone.now(), next_entry)
    except Exception:
        log.exception("could not notify about %s on entry %s", action, entry.pk)
        return []


def _entry_decided(entry, action: str, actor, previous: str, now: datetime, next_entry=UNKNOWN
                   ) -> list[Notification]:
    course, unit, level = entry.course, entry.unit, entry.level
    campaign = course.campaign
    people = _others(team(course), actor)
    common = {"link": course_link(course), "campaign": campaign, "entry": entry}
    if action == "return":
        title, body = texts.returned(course.title, unit.name, entry.reason, course_deadline(course, entry), now)
        return notify(people, Kind.RETURNED, title, body, **common)
    if action == "decline":
        return notify(people, Kind.DECLINED, *texts.declined(course.title, unit.name, level.name, entry.reason), **common)
    if action == "award":
        return notify(people, Kind.AWARDED, *texts.awarded(course.title, unit.name, level.award_name), **common)
    if action == "unaward":
        return notify(people, Kind.UNAWARDED, *texts.unawarded(course.title, unit.name, level.award_name), **common)
    if action == "recommend":
        nxt = next_entry if next_entry is not UNKNOWN else (
            Entry.objects.filter(course=course, from_unit=unit).exclude(pk=entry.pk)
            .select_related("unit", "level", "node__textbook").first())
        to_unit, to_level = (nxt.unit.name, nxt.level.name) if nxt else ("", "")
        rows = _rows(people, Kind.RECOMMENDED, *texts.recommended(course.title, unit.name, to_unit, to_level),
                     **common)
        if nxt is not None:
            deadline = unit_deadlines(campaign, nxt.unit, nxt.level)["deadline"]
            title, body = texts.incoming(course.title, unit.name, course.school.name, category_label(course.category),
                                         nxt.node.textbook.subject, deadline, now)
            admins = _others(unit_admins([nxt.unit_id]).get(nxt.unit_id, []), actor)
            rows += _rows(admins, Kind.INCOMING, title, body, link=entry_link(nxt), campaign=campaign, entry=nxt)
        return _insert(rows)
    if action == "resubmit":  # a returned course is back with the unit that returned it
        deadline = unit_deadlines(campaign, unit, level)["deadline"]
        title, body = texts.resubmitted(course.title, course.lead_teacher.display_name, entry.reason, deadline, now)
        admins = _others(unit_admins([unit.pk]).get(unit.pk, []), actor)
        return notify(admins, Kind.INCOMING, title, body, link=entry_link(entry), campaign=campaign, entry=entry)
    if action == "undo" and previous in ("recommended", "declined"):
        rows = _rows(people, Kind.UNDONE, *texts.undone(course.title, unit.name, previous), **common)
        parent = unit.parent
        # The campaign's levels: as the decision read them (prefetched), else one query.
        if previous == "recommended" and parent is not None and any(
                lv.kind == parent.kind for lv in campaign.levels.all()):
            admins = _others(unit_admins([parent.pk]).get(parent.pk, []), actor)
            rows += _rows(admins, Kind.INCOMING_UNDONE, *texts.incoming_undone(course.title, unit.name),
                          link=desk_link(campaign, parent), campaign=campaign)
        return _insert(rows)
    return []


# --- periodic: deadlines near ---------------------------------------------------------------------
def send_deadline_reminders(now: datetime | None = None) -> dict:
    """For every open campaign: remind the admins of units whose deadlines are near and who have
    not confirmed, and the lead teachers of courses not yet submitted. Safe to run any number of
    times: each reminder reaches a user once per deadline and window."""
    now = now or timezone.now()
    counts = {"units": 0, "contact_forms": 0, "courses": 0}
    for campaign in Campaign.objects.filter(status=CampaignStatus.OPEN).select_related("owner"):
        levels = list(campaign.levels.all())
        overrides = list(DeadlineOverride.objects.filter(level__campaign=campaign))
        for level in levels:
            own = [level, *(o for o in overrides if o.level_id == level.pk)]
            if _any_near(now, own, ("deadline", "confirm_deadline")):
                counts["units"] += _remind_units(campaign, level, now)
        if _any_near(now, [*levels, *overrides], ("contact_form_deadline",)):
            counts["contact_forms"] += _remind_contact_forms(campaign, now)
        if _any_near(now, [*levels, *overrides], ("deadline",)):
            counts["courses"] += _remind_courses(campaign, now)
    return counts


def _any_near(now: datetime, rows, names) -> bool:
    """Whether any of these deadlines of these levels/overrides lies within the widest window: an
    effective deadline is always one of them, so nothing else can be due."""
    return any(rules.window_for(now, getattr(row, name)) is not None for row in rows for name in names)


def _level_units(campaign: Campaign, level: Level) -> QuerySet[Unit]:
    owner = campaign.owner
    qs = Unit.objects.filter(is_active=True, kind=level.kind).select_related("parent")
    if level.kind == "school":  # only schools that hold courses have something to decide
        return qs.filter(pk__in=Entry.objects.filter(level=level).values("unit_id")).filter(path__startswith=owner.path)
    return qs.filter(Q(path__startswith=owner.path) | Q(pk__in=owner.ancestor_ids))


def _remind_units(campaign: Campaign, level: Level, now: datetime) -> int:
    units = list(_level_units(campaign, level))
    ids = [u.pk for u in units]
    confirmed = set(UnitLevel.objects.filter(level=level, unit_id__in=ids, confirmed_at__isnull=False)
                    .values_list("unit_id", flat=True))
    held = {row["unit_id"]: row for row in Entry.objects.filter(level=level, unit_id__in=ids).values("unit_id")
            .annotate(total=Count("pk"), pending=Count("pk", filter=Q(state="pending")))}
    admins = unit_admins(ids)
    sent = 0
    for unit in units:
        if unit.pk in confirmed or not admins.get(unit.pk):
            continue
        counts = held.get(unit.pk, {"total": 0, "pending": 0})
        facts = rules.UnitFacts(unit.kind, False, counts["total"] > 0, unit_deadlines(campaign, unit, level))
        for due in rules.unit_reminders(facts, now):
            title, body = texts.deadline_near(unit.name, campaign.title, level.name, due.fields, due.deadline, now,
                                              counts["pending"])
            sent += len(notify(admins[unit.pk], Kind.DEADLINE, title, body, link=desk_link(campaign, unit),
                               campaign=campaign, dedupe_key=rules.deadline_key(level.pk, unit.pk, due)))
    return sent


def _remind_contact_forms(campaign: Campaign, now: datetime) -> int:
    """Units that file a contact form (app contacts: those reporting straight to the organiser)
    and have not filed it, with the deadline near."""
    units = contacts.reporting_units(campaign)
    admins = unit_admins([u.pk for u in units])
    sent = 0
    for duty in contacts.duties(campaign, [u for u in units if admins.get(u.pk)], now=now):
        due = rules.contact_form_reminder(duty.filed, duty.deadline, now)
        if due is None:
            continue
        title, body = texts.contact_form_near(duty.unit.name, campaign.title, due.deadline, now, duty.form is not None)
        sent += len(notify(admins[duty.unit.pk], Kind.DEADLINE, title, body,
                           link=reverse("contacts:form", args=[campaign.pk, duty.unit.pk]), campaign=campaign,
                           dedupe_key=rules.deadline_key(duty.level.pk, duty.unit.pk, due)))
    return sent


def _remind_courses(campaign: Campaign, now: datetime) -> int:
    courses = list(Course.objects.filter(campaign=campaign, status__in=rules.EDITABLE_COURSE_STATES)
                   .select_related("campaign", "school__parent", "lead_teacher"))
    returned = {e.course_id: e for e in Entry.objects.filter(course__in=courses, state="returned")
                .select_related("unit__parent", "level")}
    school_deadlines: dict[int, datetime | None] = {}
    sent = 0
    for course in courses:
        if course.school_id not in school_deadlines:
            school_deadlines[course.school_id] = course_deadline(course)
        deadline = school_deadlines[course.school_id]
        if course.pk in returned:
            deadline = course_deadline(course, returned[course.pk])
        due = rules.draft_reminder(course.status, deadline, now)
        if due is None:
            continue
        title, body = texts.draft_near(course.title, course.status, due.deadline, now)
        sent += len(notify([course.lead_teacher], Kind.DRAFT, title, body, link=course_link(course),
                           campaign=campaign, dedupe_key=rules.draft_key(course.pk, due)))
    return sent


# --- the one-click reminder ------------------------------------------------------------------------
@dataclass
class Reminded:
    unit: Unit
    recipients: int


@dataclass
class Skipped:
    unit: Unit
    reason: str


@dataclass
class RemindResult:
    parent: Unit
    reminded: list[Reminded] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def message(self) -> str:
        return _("已提醒 %(n)d 个单位。") % {"n": len(self.reminded)}


def reminder_parent(actor, campaign: Campaign, unit_id=None) -> Unit:
    """The unit whose children the actor reminds: one he administers himself (county, city or
    province), by default his highest in the campaign."""
    if unit_id in (None, ""):
        units = sorted((u for u in board_units(actor, campaign)
                        if actor.has_perm("notifications.remind_children", u)), key=lambda u: u.depth)
        if not units:
            raise PermissionDenied(_("只有县（市、区）、市、省的管理员可以提醒下级单位。"))
        return units[0]
    unit = Unit.objects.select_related("parent").filter(pk=as_int(unit_id) or 0, is_active=True).first()
    if (unit is None or not actor.administers(unit)
            or not (unit.is_within(campaign.owner) or campaign.owner.is_within(unit))):
        raise Http404(_("未找到该单位，或它不在您管理的范围内。"))
    if not actor.has_perm("notifications.remind_children", unit):
        raise PermissionDenied(_("只有%(u)s的管理员可以提醒它的下级单位。") % {"u": unit.name})
    return unit


@transaction.atomic
def remind_behind(actor, campaign: Campaign, unit_ids: Iterable[int] | None = None, *, parent=None,
                  now: datetime | None = None) -> RemindResult:
    """Remind the admins of ``parent``'s child units that are behind (undecided entries, or summary
    table not confirmed; ``selection.services.progress``): all of them, or those in ``unit_ids``.
    A unit reminded within the last ``rules.REMIND_INTERVAL`` is skipped and the result says when it
    was reminded; when nothing could be sent the call is refused with that reason."""
    now = now or timezone.now()
    if campaign.status != CampaignStatus.OPEN:
        raise ServiceError(_("遴选活动不在进行中，不能发送提醒。"))
    parent = reminder_parent(actor, campaign, parent.pk if isinstance(parent, Unit) else parent)
    rows = progress(actor, campaign, parent, now=now)
    by_id = {r.unit.pk: r for r in rows}
    result = RemindResult(parent)
    if unit_ids is None:
        targets = [r for r in rows if r.behind]
    else:
        wanted = list(dict.fromkeys(as_int(i) for i in unit_ids))
        if not wanted or any(i not in by_id for i in wanted):
            raise Http404(_("未找到该单位，或它不是%(p)s的直属下级单位。") % {"p": parent.name})
        targets = [by_id[i] for i in wanted]
        result.skipped += [Skipped(r.unit, _("%(u)s已完成，无需提醒。") % {"u": r.unit.name})
                           for r in targets if not r.behind]
        targets = [r for r in targets if r.behind]
    if not targets and not result.skipped:
        raise ServiceError(_("下级单位都已完成（没有待处理课程，汇总表均已确认），无需提醒。"))
    admins = unit_admins([r.unit.pk for r in targets])
    states = _locked_reminders(campaign, [r.unit.pk for r in targets])
    for r in targets:
        state = states[r.unit.pk]
        decision = rules.remind_decision(r.unit.name, state.last_sent_at, now)
        if not decision.ok:
            result.skipped.append(Skipped(r.unit, decision.message))
            continue
        people = admins.get(r.unit.pk, [])
        if not people:
            result.skipped.append(Skipped(r.unit, _("%(u)s还没有管理员账号，无法提醒。请先在“单位”页面为它添加管理员。") % {
                "u": r.unit.name}))
            continue
        title, body = texts.remind(parent.name, r.unit.name, campaign.title, r.level.name, r.counts["pending"],
                                   r.confirmed, r.deadline, now, r.contact_required and not r.contact_filed)
        sent = notify(people, Kind.REMIND, title, body, link=desk_link(campaign, r.unit), campaign=campaign)
        state.last_sent_at, state.last_sent_by, state.times = now, actor, state.times + 1
        state.save(update_fields=["last_sent_at", "last_sent_by", "times"])
        result.reminded.append(Reminded(r.unit, len(sent)))
    if not result.reminded:
        raise ServiceError("".join(s.reason for s in result.skipped),
                           errors=[{"unit_id": s.unit.pk, "reason": s.reason} for s in result.skipped])
    record(actor, "notifications.remind", campaign, unit=parent, after={
        "parent": parent.name, "reminded": [{"unit": x.unit.name, "recipients": x.recipients} for x in result.reminded],
        "skipped": [{"unit": s.unit.name, "reason": s.reason} for s in result.skipped]})
    return result


def _locked_reminders(campaign: Campaign, unit_ids: list[int]) -> dict[int, UnitReminder]:
    existing = set(UnitReminder.objects.filter(campaign=campaign, unit_id__in=unit_ids).values_list("unit_id", flat=True))
    UnitReminder.objects.bulk_create([UnitReminder(campaign=campaign, unit_id=pk) for pk in unit_ids
                                      if pk not in existing], ignore_conflicts=True)
    return {r.unit_id: r for r in UnitReminder.objects.select_for_update().filter(campaign=campaign, unit_id__in=unit_ids)}


def last_reminders(campaign: Campaign, unit_ids: Iterable[int]) -> dict[int, datetime]:
    """When each unit was last reminded in the campaign (for the progress board)."""
    return dict(UnitReminder.objects.filter(campaign=campaign, unit_id__in=list(unit_ids), last_sent_at__isnull=False)
                .values_list("unit_id", "last_sent_at"))


# --- reading -----------------------------------------------------------------------------------------
def list_for(user, *, unread: bool = False) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first within each."""
    qs = Notification.objects.for_user(user)
    if unread:
        qs = qs.unread()
    return (qs.annotate(is_read=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                     output_field=IntegerField()))
            .order_by("is_read", "-created_at", "-id"))


def unread_count(user) -> int:
    return Notification.objects.for_user(user).unread().count()


def get_for(user, pk) -> Notification:
    n = Notification.objects.for_user(user).filter(pk=pk).first()
    if n is None or not user.has_perm("notifications.read_notification", n):
        raise Http404(_("未找到该通知。"))
    return n


def mark_read(user, pk, *, now: datetime | None = None) -> Notification:
    n = get_for(user, pk)
    if n.read_at is None:
        n.read_at = now or timezone.now()
        Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=n.read_at)
    return n


def mark_all_read(user, *, now: datetime | None = None) -> int:
    return Notification.objects.for_user(user).unread().update(read_at=now or timezone.now())

