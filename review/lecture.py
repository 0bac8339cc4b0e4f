"""The panel chair's work (use cases; pages and the API call these):

- 试讲 (LECTURE rounds): the teachers lecture in person and the chair enters each panel expert's
  sheet on the rubric (``enter_sheet``), with the same validation as an expert's own sheet
  (``review.rules.clean_sheet``); such sheets record who entered them, are audited
  ("review.sheet.enter") and count in the results like any sheet. The round has a date and a
  place; each entry may get its own time slot and place (``set_lecture_slot``, admin or chair);
- disagreement: for an entry flagged by the aggregation (spread above the threshold, no veto) the
  chair stores his adjudication (``adjudicate``: score 0..rubric total and a written reason;
  ``withdraw_adjudication`` with a reason, until the round's proposal is applied), or the chair
  or the round's admin adds a further reviewer (``add_reviewer``) among the experts the
  assignment rules allow (``review.assignment.check_move``);
- ``chair_page``: the chair's page data in a fixed number of queries.

Everything the chair reaches names entries by their neutral code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Event
from audit.services import record
from jingpinke.errors import ServiceError
from review import assignment as solver
from review import notify as expert_notify
from review import rules, services
from review.models import (
    Adjudication,
    Assignment,
    AssignmentChange,
    AssignmentState,
    ChangeKind,
    Phase,
    ReviewRound,
    RoundEntry,
    RoundStatus,
    ScoreSheet,
)

MAX_PLACE = 200


# --- the chair's round -------------------------------------------------------------------------
def chair_round(actor, round_id) -> ReviewRound:
    """A published round the actor chairs (anything else: 404)."""
    review_round = (services.chair_rounds(actor).select_related("level", "unit", "rubric", "campaign")
                    .filter(pk=round_id).first() if round_id is not None else None)
    if review_round is None:
        raise Http404(_("只有本轮评审组组长可以查看。"))
    return review_round


def _managed_or_chaired(actor, round_id) -> ReviewRound:
    """A round the actor manages (admin of its unit or above) or chairs (published); else 404."""
    review_round = (ReviewRound.objects.select_related("level", "unit", "rubric", "campaign")
                    .filter(pk=round_id).first() if round_id is not None else None)
    if review_round is None or not (actor.has_perm("review.view_round", review_round) or (
            review_round.status != RoundStatus.DRAFT and actor.has_perm("review.enter_lecture", review_round))):
        raise Http404(_("没有这个评审轮次。"))
    return review_round


# --- time slots ----------------------------------------------------------------------------------
def slot_snapshot(re: RoundEntry) -> dict:
    return {"code": re.code, "lecture_at": re.lecture_at.isoformat() if re.lecture_at else None,
            "lecture_place": re.lecture_place}


@transaction.atomic
def set_lecture_slot(actor, review_round: ReviewRound, round_entry_id, *, lecture_at: datetime | None,
                     lecture_place: str = "") -> RoundEntry:
    """The entry's own time slot (None: none yet) and place ("": the round's place), set by the
    round's admin or its chair; audited."""
    if not actor.has_perm("review.set_lecture_slot", review_round):
        raise PermissionDenied(_("只有本轮所属单位的管理员和评审组组长可以安排试讲时间。"))
    if review_round.phase != Phase.LECTURE:
        raise ServiceError(_("只有试讲环节的评审轮次需要安排试讲时间。"))
    re = RoundEntry.objects.select_for_update().filter(round=review_round, pk=round_entry_id).first() \
        if round_entry_id is not None else None
    if re is None:
        raise ServiceError(_("请选择本轮的一件作品。"))
    place = (lecture_place or "").strip()
    if len(place) > MAX_PLACE:
        raise ServiceError(_("试讲地点最多 %(n)d 个字。") % {"n": MAX_PLACE})
    if lecture_at is not None and review_round.lecture_date is not None:
        if _beijing_date(lecture_at) != review_round.lecture_date:
            raise ServiceError(_("试讲时间应在本轮的试讲日期 %(d)s 当天。") % {"d": review_round.lecture_date.isoformat()})
    before = slot_snapshot(re)
    re.lecture_at, re.lecture_place = lecture_at, place
    re.save(update_fields=["lecture_at", "lecture_place"])
    record(actor, "review.lecture.slot", review_round, before=before, after=slot_snapshot(re), unit=review_round.unit)
    return re


def _beijing_date(value: datetime):
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).date()


# --- lecture sheets entered by the chair ---------------------------------------------------------
def _lecture_assignment(actor, assignment_id) -> Assignment:
    """An assignment of a published round the actor chairs, locked; else 404."""
    a = (Assignment.objects.select_for_update().select_related("round__rubric", "round__unit", "entry", "expert")
         .filter(pk=assignment_id).exclude(round__status=RoundStatus.DRAFT)
         .exclude(state=AssignmentState.PROPOSED).first() if assignment_id is not None else None)
    if a is None or not actor.has_perm("review.enter_lecture", a.round):
        raise Http404(_("没有这项评审任务。"))
    return a


@transaction.atomic
def enter_sheet(actor, assignment_id, *, points: dict, veto_id=None, veto_reason: str = "", comment: str = "",
                final: bool = False, now: datetime | None = None) -> ScoreSheet:
    """The chair enters (saves, or submits with ``final``) one panel expert's sheet of a 试讲 round:
    the same validation as the expert's own sheet; the same window (final after it closes, unless
    the chair reopened the sheet). Audited "review.sheet.enter" with the sheet as entered."""
    now = now or timezone.now()
    a = _lecture_assignment(actor, assignment_id)
    sheet = ScoreSheet.objects.filter(assignment=a).select_related("veto").first()
    problem = rules.lecture_entry_problem(
        is_lecture=a.round.phase == Phase.LECTURE, window=services._round_window(a.round, now),
        submitted=a.state == AssignmentState.SUBMITTED, reopened=sheet is not None and sheet.reopened_at is not None,
        closes_at_text=services._beijing(a.round.closes_at))
    if problem:
        raise ServiceError(problem)
    clean = services.clean_sheet_input(a, points=points, veto_id=veto_id, veto_reason=veto_reason, comment=comment,
                                       final=final)
    sheet = services.write_sheet(a, sheet, clean, now, final, entered_by=actor)
    record(actor, "review.sheet.enter", a, after={"code": a.entry.code, "expert": a.expert_id, "final": final,
                                                  **services.sheet_snapshot(sheet)}, unit=a.round.unit)
    return sheet


# --- adjudication -----------------------------------------------------------------------------------
def _round_entry(review_round: ReviewRound, round_entry_id) -> RoundEntry:
    re = RoundEntry.objects.filter(round=review_round, pk=round_entry_id).first() if round_entry_id is not None \
        else None
    if re is None:
        raise ServiceError(_("请选择本轮的一件作品。"))
    return re


def adjudication_snapshot(adj: Adjudication) -> dict:
    return {"code": adj.round_entry.code, "points": str(adj.points), "reason": adj.reason}


@transaction.atomic
def adjudicate(actor, review_round: ReviewRound, round_entry_id, points, reason: str) -> Adjudication:
    """The chair's score for an entry flagged for disagreement (no veto), with a written reason;
    replaces an earlier one of his (one per entry). Audited."""
    if not actor.has_perm("review.adjudicate", review_round):
        raise PermissionDenied(_("只有本轮评审组组长可以裁定。"))
    review_round = ReviewRound.objects.select_for_update().select_related("rubric", "unit", "level").get(
        pk=review_round.pk)
    re = _round_entry(review_round, round_entry_id)
    results = services.round_results(actor, review_round)
    r = results.aggregate.entries.get(re.entry_id)
    problem = rules.adjudication_problem(scored=r is not None, disagreement=bool(r and r.disagreement),
                                         vetoed=bool(r and r.vetoes), points=points,
                                         total=review_round.rubric.total_points, reason=reason)
    if problem:
        raise ServiceError(problem)
    value = rules.to_decimal(points)
    adj = Adjudication.objects.filter(round_entry=re).select_related("round_entry").first()
    before = adjudication_snapshot(adj) if adj else None
    if adj is None:
        adj = Adjudication(round_entry=re)
    adj.points, adj.reason, adj.by = value, reason.strip(), actor
    adj.save()
    record(actor, "review.adjudication.set", review_round, before=before, after=adjudication_snapshot(adj),
           reason=adj.reason, unit=review_round.unit)
    return adj


def proposal_applied_since(review_round: ReviewRound, since: datetime) -> bool:
    return Event.objects.filter(action="review.proposal.apply", target_type="review.reviewround",
                                target_id=str(review_round.pk), at__gte=since).exists()


@transaction.atomic
def withdraw_adjudication(actor, review_round: ReviewRound, round_entry_id, reason: str) -> None:
    """Take the chair's adjudication back (with a reason; audited): refused once the round's
    proposal was applied after it (the recommendations rest on it)."""
    if not actor.has_perm("review.adjudicate", review_round):
        raise PermissionDenied(_("只有本轮评审组组长可以撤回裁定。"))
    re = _round_entry(review_round, round_entry_id)
    adj = Adjudication.objects.select_for_update().filter(round_entry=re).select_related("round_entry").first()
    if adj is None:
        raise ServiceError(_("这件作品没有组长裁定。"))
    if not (reason or "").strip():
        raise ServiceError(_("请写明撤回裁定的理由。"))
    if proposal_applied_since(review_round, adj.at):
        raise ServiceError(_("本轮推荐方案已在裁定之后应用，裁定不能再撤回；如需调整，请联系本轮所属单位的管理员。"))
    before = adjudication_snapshot(adj)
    adj.delete()
    record(actor, "review.adjudication.withdraw", review_round, before=before, reason=reason.strip(),
           unit=review_round.unit)


# --- adding a reviewer ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewerOption:
    expert_id: int
    name: str
    ok: bool
    message: str  # why not, in Chinese ("" when allowed)


def _widened(rp: services.RoundProblem, entry_id: int) -> solver.Problem:
    """The round's problem with room for one more reviewer on the entry (it may already have N),
    entries labelled by their neutral code only (the chair's messages name no course)."""
    on_entry = sum(1 for _x, e in rp.pairs if e == entry_id)
    codes = {re.pk: re.code for re in rp.round_entries}
    return dataclasses.replace(rp.problem, reviewers_per_entry=max(rp.problem.reviewers_per_entry, on_entry + 1),
                               entries=tuple(dataclasses.replace(e, title=codes[e.id]) for e in rp.problem.entries))


def reviewer_options(rp: services.RoundProblem, entry_id: int) -> list[ReviewerOption]:
    """Every panel expert not yet on the entry: whether the assignment rules allow him, and why not."""
    problem, pairs = _widened(rp, entry_id), rp.pairs
    out = []
    for x in problem.experts:
        if (x.id, entry_id) in pairs:
            continue
        decision = solver.check_move(problem, pairs, solver.Move(solver.ADD, entry_id, x.id), locked=rp.locked)
        out.append(ReviewerOption(x.id, x.label, decision.ok, "" if decision.ok else decision.message))
    return sorted(out, key=lambda o: (not o.ok, o.name, o.expert_id))


@transaction.atomic
def add_reviewer(actor, review_round: ReviewRound, round_entry_id, expert_id, now: datetime | None = None) -> Assignment:
    """One more reviewer for an entry flagged by the aggregation, among the panel experts the
    assignment rules allow (subject and stage, load, every conflict kind). Published at once
    (ASSIGNED), even if the entry already has N; after the window closed his sheet opens for him
    as a reopened one. Stored as an AssignmentChange, audited, and the expert is notified."""
    now = now or timezone.now()
    if not actor.has_perm("review.add_reviewer", review_round):
        raise PermissionDenied(_("只有本轮评审组组长和本轮所属单位的管理员可以增加评审专家。"))
    review_round = ReviewRound.objects.select_for_update().select_related("level", "unit", "rubric").get(
        pk=review_round.pk)
    if review_round.status != RoundStatus.PUBLISHED:
        raise ServiceError(_("只有评审中的轮次可以增加评审专家。"))
    re = _round_entry(review_round, round_entry_id)
    if expert_id is None:
        raise ServiceError(_("请选择一位评审组中的专家。"))
    results = services.round_results(actor, review_round) if actor.has_perm("review.view_results", review_round) \
        else None
    r = results.aggregate.entries.get(re.entry_id) if results else None
    if r is None or not r.flags:
        raise ServiceError(_("只有被标记为评分分歧（或部分专家一票否决）的作品可以增加评审专家。"))
    rp = services.round_problem(review_round)
    if int(expert_id) not in rp.problem.expert_by_id:
        raise ServiceError(_("这位专家不在本轮评审组中：请本轮所属单位的管理员先把他加入评审组。"))
    decision = solver.check_move(_widened(rp, re.pk), rp.pairs, solver.Move(solver.ADD, re.pk, int(expert_id)),
                                 locked=rp.locked)
    if not decision.ok:
        raise ServiceError(decision.message)
    a = Assignment.objects.create(round=review_round, entry=re, expert_id=int(expert_id), assigned_by=actor,
                                  state=AssignmentState.ASSIGNED)
    if services._round_window(review_round, now) == "closed":
        ScoreSheet.objects.create(assignment=a, reopened_at=now, reopened_by=actor,
                                  reopen_reason=_("评分分歧，增加评审专家"))
    AssignmentChange.objects.create(round=review_round, kind=ChangeKind.ADD,
                                    added=[[a.expert_id, re.pk, AssignmentState.ASSIGNED]], actor=actor)
    record(actor, "review.assignment.add_reviewer", review_round,
           after={"round": review_round.pk, "code": re.code, "expert": a.expert_id}, unit=review_round.unit)
    a = Assignment.objects.select_related("round__level", "entry", "expert").get(pk=a.pk)
    expert_notify.reviewer_added(a)
    return a


# --- the chair's page ---------------------------------------------------------------------------
@dataclass
class LectureSheet:
    assignment: Assignment
    sheet: ScoreSheet | None
    points: dict[int, str]  # item id -> text
    problem: str | None  # why the chair may not enter it now
    dimensions: list = dataclasses.field(default_factory=list)  # [(name, [(item, text)])] for the form
    veto_id: int | None = None
    veto_reason: str = ""
    comment: str = ""
    error: ServiceError | None = None  # the refusal of what was just posted (the form shows the posted values)

    def show_posted(self, data: dict, error: ServiceError) -> None:
        """Show what the chair just posted (refused), not the saved sheet: nothing typed is lost."""
        posted = {str(k): v for k, v in (data.get("points") or {}).items()}
        self.dimensions = [(name, [(item, posted.get(str(item.pk), "")) for item, _v in rows])
                           for name, rows in self.dimensions]
        self.veto_id, self.veto_reason, self.comment = data.get("veto_id"), data.get("veto_reason", ""), \
            data.get("comment", "")
        self.error = error


@dataclass
class LectureEntry:
    round_entry: RoundEntry
    sheets: list[LectureSheet]

    @property
    def place(self) -> str:
        return self.round_entry.lecture_place or self.round_entry.round.lecture_place


@dataclass
class FlaggedEntry:
    round_entry: RoundEntry
    result: object  # aggregation.EntryResult
    scores: list[tuple[str, float, bool]]  # (expert name, points, vetoed)
    adjudication: Adjudication | None
    options: list[ReviewerOption]
    can_adjudicate: bool

    @property
    def allowed(self) -> list[ReviewerOption]:
        return [o for o in self.options if o.ok]

    @property
    def refused(self) -> list[ReviewerOption]:
        return [o for o in self.options if not o.ok]


@dataclass
class ChairPage:
    round: ReviewRound
    title: str
    items: list[tuple[str, list]]  # (dimension, [RubricItem])
    vetoes: list
    entries: list[LectureEntry]
    flagged: list[FlaggedEntry]
    error: ServiceError | None

    @property
    def is_lecture(self) -> bool:
        return self.round.phase == Phase.LECTURE


def flagged_entries(actor, review_round: ReviewRound) -> tuple[list[FlaggedEntry], ServiceError | None]:
    """The round's entries flagged by the aggregation, with every submitted score (expert name,
    points) and the experts who may be added."""
    try:
        results = services.round_results(actor, review_round)
    except ServiceError as exc:
        return [], exc
    flagged = [(entry_id, r) for entry_id, r in results.aggregate.entries.items() if r.flags]
    if not flagged:
        return [], None
    rp = services.round_problem(review_round)
    by_entry: dict[int, list] = {}
    for s in results.aggregate.sheets:
        by_entry.setdefault(s.entry_id, []).append(
            (results.expert_names.get(s.expert_id, ""), s.points, s.vetoed))
    out = []
    for entry_id, r in sorted(flagged, key=lambda item: results.rows[item[0]].code):
        re = results.rows[entry_id]
        out.append(FlaggedEntry(re, r, by_entry.get(entry_id, []), getattr(re, "adjudication", None),
                                reviewer_options(rp, re.pk), r.disagreement and not r.vetoes))
    return out, None


def chair_page(actor, round_id, now: datetime | None = None) -> ChairPage:
    """The chair's page: for a 试讲 round every entry (neutral code, slot, place) with a sheet form
    per assigned expert; for any round the flagged entries with adjudication and adding a reviewer."""
    now = now or timezone.now()
    review_round = chair_round(actor, round_id)
    entries = []
    items, vetoes = [], []
    if review_round.phase == Phase.LECTURE:
        dims = list(review_round.rubric.dimensions.prefetch_related("items"))
        items = [(d.name, list(d.items.all())) for d in dims]
        vetoes = list(review_round.rubric.vetoes.all())
        window = services._round_window(review_round, now)
        closes = services._beijing(review_round.closes_at)
        rows = (RoundEntry.objects.filter(round=review_round).select_related("round")
                .prefetch_related("assignments__expert", "assignments__sheet__scores").order_by("code"))
        for re in rows:
            sheets = []
            for a in sorted(re.assignments.all(), key=lambda a: (a.expert.real_name, a.pk)):
                if a.state == AssignmentState.PROPOSED:
                    continue
                sheet = getattr(a, "sheet", None)
                points = {s.item_id: services.decimal_text(s.points) for s in sheet.scores.all()} if sheet else {}
                problem = rules.lecture_entry_problem(
                    is_lecture=True, window=window, submitted=a.state == AssignmentState.SUBMITTED,
                    reopened=sheet is not None and sheet.reopened_at is not None, closes_at_text=closes)
                sheets.append(LectureSheet(a, sheet, points, problem, [
                    (name, [(item, points.get(item.pk, "")) for item in its]) for name, its in items],
                    sheet.veto_id if sheet else None, sheet.veto_reason if sheet else "",
                    sheet.comment if sheet else ""))
            entries.append(LectureEntry(re, sheets))
    flagged, error = flagged_entries(actor, review_round)
    return ChairPage(review_round, services.neutral_round_title(review_round), items, vetoes, entries, flagged, error)

