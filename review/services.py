"""Use cases of expert review. One function per action: permission-checked, transactional, audited.
Pages and the API both call these.

- rubrics: the campaign's evaluation indicators per category, installed from the shipped defaults
  of its year (``rubric_defaults/<year>.json``) when a category is created, edited by the owner;
- experts: a unit's pool (members with the expert role) with subjects, stages and max load, added
  by hand or from an Excel sheet; declared conflicts;
- rounds: created by the admin of the unit holding the entries at a level, with the entries under
  neutral codes, a panel with a chair and manual assignments (the solver comes later);
- the expert's own assignments, with nothing that names teacher, school or county.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from campaigns.enums import VIDEO_KINDS, Category, ResourceKind, Stage
from campaigns.models import Campaign, CampaignCategory, Level
from courses.models import Resource
from jingpinke.errors import ServiceError
from jingpinke.excel import RowErrors, read_sheet, template_response
from media.clean import neutral_name
from media.models import CleanCopy, ProbeStatus
from media.services import file_response
from orgs import rules as org_rules
from orgs.models import Membership, Role, Unit, UnitKind, User
from review import aggregation as agg
from review import assignment as solver
from review import notify as expert_notify
from review import proposal as prop
from review import rules
from review.models import (
    Assignment,
    AssignmentChange,
    AssignmentState,
    ChangeKind,
    Conflict,
    ExpertProfile,
    PanelMember,
    Phase,
    ReviewRound,
    RoundEntry,
    RoundStatus,
    Rubric,
    RubricDimension,
    RubricItem,
    Score,
    ScoreSheet,
    VetoItem,
)
from review.permissions import RoundTarget
from selection import rules as selection_rules
from selection import services as selection_services
from selection.models import Entry, EntryState
from selection.rules import time_left_text

DEFAULTS_DIR = Path(__file__).resolve().parent / "rubric_defaults"
REVIEWABLE_STATES = (EntryState.PENDING, EntryState.RECOMMENDED)


def require(actor, perm: str, obj=None, message: str | None = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied(message or _("您没有权限执行此操作。"))


def _refuse(problems: list[dict], message: str | None = None) -> None:
    if problems:
        first = problems[0]
        raise ServiceError(message or _("输入有误，请修改后再保存：%(where)s %(col)s %(msg)s") % {
            "where": first["row"], "col": first["column"], "msg": first["message"]}, errors=problems)


# --- rubrics -----------------------------------------------------------------------------------
def _default_years() -> list[int]:
    return sorted(int(p.stem) for p in DEFAULTS_DIR.glob("*.json") if p.stem.isdigit())


def default_rubric_doc(year: int, category: str) -> dict | None:
    """The shipped rubric of ``category`` for ``year``: that year's file, else the latest before it,
    else the earliest there is."""
    years = _default_years()
    if not years:
        return None
    chosen = max((y for y in years if y <= year), default=years[0])
    data = json.loads((DEFAULTS_DIR / f"{chosen}.json").read_text(encoding="utf-8"))
    doc = data["rubrics"].get(category)
    if doc is None:
        return None
    return {**doc, "vetoes": list(data.get("vetoes", [])), "source": data.get("source", "")}


def _write_rubric(rubric: Rubric, clean: rules.CleanRubric) -> None:
    rubric.dimensions.all().delete()
    rubric.vetoes.all().delete()
    for d_order, dim in enumerate(clean.dimensions, start=1):
        dimension = RubricDimension.objects.create(rubric=rubric, name=dim["name"], order=d_order)
        RubricItem.objects.bulk_create([
            RubricItem(dimension=dimension, name=item["name"], description=item["description"],
                       max_points=item["max_points"], weight=item["weight"], order=i_order)
            for i_order, item in enumerate(dim["items"], start=1)])
    VetoItem.objects.bulk_create([VetoItem(rubric=rubric, name=name, order=i)
                                  for i, name in enumerate(clean.vetoes, start=1)])


def install_default_rubric(campaign: Campaign, category: str) -> Rubric | None:
    """Give the campaign's category its rubric from the shipped defaults (once)."""
    existing = Rubric.objects.filter(campaign=campaign, category=category).first()
    if existing is not None:
        return existing
    doc = default_rubric_doc(campaign.year, category)
    if doc is None:
        return None
    clean, problems = rules.clean_rubric(doc)
    if problems:  # a broken shipped file is a bug, not a user error
        raise ValueError(problems)
    try:
        with transaction.atomic():
            rubric = Rubric.objects.create(campaign=campaign, category=category, title=clean.title,
                                           total_points=clean.total_points, source=doc.get("source", "")[:100])
            _write_rubric(rubric, clean)
    except IntegrityError:  # two first readers at once: the other one installed it
        return Rubric.objects.get(campaign=campaign, category=category)
    return rubric


def rubric_doc(rubric: Rubric) -> dict:
    """The rubric as the document the page and the API edit."""
    return {
        "title": rubric.title,
        "total_points": str(rubric.total_points),
        "dimensions": [{"name": d.name, "items": [
            {"name": i.name, "description": i.description, "max_points": str(i.max_points), "weight": str(i.weight)}
            for i in d.items.all()]} for d in rubric.dimensions.all()],
        "vetoes": [v.name for v in rubric.vetoes.all()],
    }


def _rubric_qs() -> QuerySet[Rubric]:
    return Rubric.objects.select_related("campaign").prefetch_related("dimensions__items", "vetoes")


def rubrics_for(actor, campaign: Campaign) -> list[Rubric]:
    """The campaign's rubrics, one per category (defaults installed for a category that has none)."""
    require(actor, "review.view_rubric", campaign, _("只有本活动相关单位的管理员可以查看评价指标。"))
    categories = list(CampaignCategory.objects.filter(campaign=campaign).values_list("category", flat=True))
    have = set(Rubric.objects.filter(campaign=campaign).values_list("category", flat=True))
    for category in categories:
        if category not in have:
            install_default_rubric(campaign, category)
    order = {c: i for i, c in enumerate(Category.values)}
    return sorted(_rubric_qs().filter(campaign=campaign, category__in=categories), key=lambda r: order[r.category])


def get_rubric(actor, campaign: Campaign, category: str) -> Rubric:
    for rubric in rubrics_for(actor, campaign):
        if rubric.category == category:
            return rubric
    raise Http404


def has_scores(rubric: Rubric) -> bool:
    return Score.objects.filter(item__dimension__rubric=rubric).exists()


@transaction.atomic
def set_rubric(actor, rubric: Rubric, doc: dict) -> Rubric:
    """Replace the rubric's dimensions, items and vetoes; refused once an expert has scored with it."""
    require(actor, "review.change_rubric", rubric.campaign,
            _("只有主办单位（%(owner)s）及其上级的管理员可以修改评价指标。") % {"owner": rubric.campaign.owner.name})
    rubric = Rubric.objects.select_for_update().get(pk=rubric.pk)
    clean, problems = rules.clean_rubric(doc)
    _refuse(problems, _("评价指标有 %(n)d 处问题，未保存：%(first)s") % {
        "n": len(problems), "first": problems[0]["message"]} if problems else None)
    if has_scores(rubric):
        raise ServiceError(_("已有专家按这套评价指标评分，不能再修改；如确需调整，请为新的评审轮次使用新的评价指标。"))
    before = rubric_doc(rubric)
    rubric.title, rubric.total_points = clean.title, clean.total_points
    rubric.save(update_fields=["title", "total_points", "updated_at"])
    _write_rubric(rubric, clean)
    rubric = _rubric_qs().get(pk=rubric.pk)
    record(actor, "review.rubric.update", rubric, before=before, after=rubric_doc(rubric), unit=rubric.campaign.owner)
    return rubric


# --- experts -----------------------------------------------------------------------------------
EXPERT_COLUMNS = ["姓名", "手机号", "工作单位", "学科", "学段", "最大评审量"]
EXPERT_REQUIRED = ["姓名", "手机号", "学科", "学段"]
EXPERT_EXAMPLE = ["王建国", "13900139000", "440802001", "语文、数学", "小学、初中", "30"]
STAGE_FROM_LABEL = {str(label): value for value, label in Stage.choices}
STAGE_LABELS = dict(Stage.choices)
DEFAULT_MAX_LOAD = 30


def pool_units(actor) -> list[Unit]:
    """Units whose expert pool the actor keeps (the units he administers, not schools)."""
    if actor.is_superuser:
        return list(Unit.objects.exclude(kind=UnitKind.SCHOOL).filter(is_active=True))
    return [u for u in actor.admin_units() if u.kind != UnitKind.SCHOOL]


def get_pool_unit(actor, pk) -> Unit:
    unit = Unit.objects.filter(pk=pk).first()
    if unit is None or not actor.has_perm("review.manage_experts", unit):
        raise Http404
    return unit


def experts_of(actor, unit: Unit) -> QuerySet[User]:
    """The unit's pool: members with the expert role, with their profiles."""
    require(actor, "review.manage_experts", unit, _("您只能管理自己单位的专家库。"))
    return (User.objects.filter(memberships__unit=unit, memberships__role=Role.EXPERT)
            .select_related("expert_profile", "expert_profile__work_unit").order_by("real_name", "pk").distinct())


def parse_list(text) -> list[str]:
    """"语文、数学, 英语" → ["语文", "数学", "英语"] (a list is taken as is)."""
    if isinstance(text, list | tuple):
        parts = text
    else:
        parts = str(text or "").replace("，", ",").replace("、", ",").replace("；", ",").replace(";", ",").split(",")
    out = []
    for part in parts:
        part = str(part).strip()
        if part and part not in out:
            out.append(part)
    return out


def parse_stages(values) -> tuple[list[str], list[str]]:
    """Stage codes from codes or Chinese labels; the unknown ones second."""
    stages, unknown = [], []
    for value in parse_list(values):
        code = value if value in STAGE_LABELS else STAGE_FROM_LABEL.get(value)
        if code is None:
            unknown.append(value)
        elif code not in stages:
            stages.append(code)
    return stages, unknown


def _work_unit(text: str) -> tuple[Unit | None, str]:
    """A unit code or the exact name of one active unit; anything else is kept as a name."""
    text = (text or "").strip()
    if not text:
        return None, ""
    unit = Unit.objects.filter(code=text).first()
    if unit is None:
        named = list(Unit.objects.filter(name=text, is_active=True)[:2])
        unit = named[0] if len(named) == 1 else None
    return unit, ("" if unit else text[:100])


def _profile_problems(subjects: list[str], stages: list[str], unknown_stages: list[str], max_load) -> list[tuple[str, str]]:
    problems = []
    if not subjects:
        problems.append(("学科", _("请填写评审学科，多个学科用顿号分隔，例如“语文、数学”。")))
    elif any(len(s) > 30 for s in subjects):
        problems.append(("学科", _("每个学科最多 30 个字。")))
    if unknown_stages:
        problems.append(("学段", _("学段“%(s)s”无法识别，请填写：小学、初中、高中或特殊教育。") % {"s": "、".join(unknown_stages)}))
    elif not stages:
        problems.append(("学段", _("请填写评审学段：小学、初中、高中或特殊教育（可填多个）。")))
    if not isinstance(max_load, int) or isinstance(max_load, bool) or not 1 <= max_load <= 500:
        problems.append(("最大评审量", _("最大评审量应为 1 到 500 之间的整数，留空为 %(n)d。") % {"n": DEFAULT_MAX_LOAD}))
    return problems


def _parse_load(value) -> int | None | str:
    text = str(value if value is not None else "").strip()
    if not text:
        return DEFAULT_MAX_LOAD
    return int(text) if text.isascii() and text.isdigit() and len(text) < 6 else text


def profile_snapshot(profile: ExpertProfile) -> dict:
    return {"user": profile.user_id, "work_unit": profile.work_unit_label, "subjects": profile.subjects,
            "stages": profile.stages, "max_load": profile.max_load}


def _enrol(actor, unit: Unit, user: User, *, work_unit: Unit | None, work_unit_name: str, subjects, stages,
           max_load, reason: str = "") -> ExpertProfile:
    if not Membership.objects.filter(user=user, unit=unit, role=Role.EXPERT).exists():
        m = Membership.objects.create(user=user, unit=unit, role=Role.EXPERT, subject="、".join(subjects)[:30])
        record(actor, "orgs.membership.add", m, after={"user": user.pk, "unit": unit.pk, "role": Role.EXPERT},
               reason=reason, unit=unit)
    profile, created = ExpertProfile.objects.get_or_create(user=user)
    before = None if created else profile_snapshot(profile)
    profile.work_unit, profile.work_unit_name = work_unit, work_unit_name
    profile.subjects, profile.stages, profile.max_load = subjects, stages, max_load
    profile.save()
    record(actor, "review.expert.save", profile, before=before, after=profile_snapshot(profile), reason=reason,
           unit=unit)
    return profile


@transaction.atomic
def add_expert(actor, unit: Unit, *, real_name: str, mobile: str, work_unit: str = "", subjects="", stages="",
               max_load=None) -> tuple[User, str]:
    """Put a person into the unit's expert pool. A mobile already in the system is that person
    (from any unit) and must carry the same name; otherwise a new account is made. Returns the
    user and his initial password ("" for an existing account)."""
    require(actor, "review.manage_experts", unit, _("您只能管理自己单位的专家库。"))
    real_name, mobile = (real_name or "").strip(), (mobile or "").strip()
    subject_list = parse_list(subjects)
    stage_list, unknown = parse_stages(stages)
    load = _parse_load(max_load)
    problems = []
    if not real_name:
        problems.append(("姓名", _("请填写姓名。")))
    if not org_rules.is_valid_mobile(mobile):
        problems.append(("手机号", _("请填写 11 位手机号码，例如 13800138000。")))
    problems += _profile_problems(subject_list, stage_list, unknown, load)
    if problems:
        raise ServiceError(problems[0][1], errors=[{"row": "", "column": c, "message": str(m)} for c, m in problems])
    place, place_name = _work_unit(work_unit)
    user = User.objects.filter(mobile=mobile).first()
    password = ""
    if user is not None:
        if user.real_name != real_name:
            raise ServiceError(_("手机号 %(m)s 已属于系统中的另一位用户，姓名与您填写的不一致：请核对姓名或手机号。") % {"m": mobile})
    else:
        if User.objects.filter(username__iexact=mobile).exists():
            raise ServiceError(_("手机号 %(m)s 已被系统中的其他账户用作用户名。") % {"m": mobile})
        password = org_rules.generate_password()
        user = User(username=mobile, real_name=real_name, mobile=mobile, must_change_password=True)
        user.set_password(password)
        user.save()
        record(actor, "orgs.user.create", user, after={"username": user.username, "real_name": real_name,
                                                         "must_change_password": True}, unit=unit)
    _enrol(actor, unit, user, work_unit=place, work_unit_name=place_name, subjects=subject_list, stages=stage_list,
           max_load=load)
    return user, password


@transaction.atomic
def update_expert(actor, unit: Unit, user: User, *, work_unit: str = "", subjects="", stages="", max_load=None) -> ExpertProfile:
    require(actor, "review.manage_experts", unit, _("您只能管理自己单位的专家库。"))
    if not Membership.objects.filter(user=user, unit=unit, role=Role.EXPERT).exists():
        raise Http404
    subject_list = parse_list(subjects)
    stage_list, unknown = parse_stages(stages)
    load = _parse_load(max_load)
    problems = _profile_problems(subject_list, stage_list, unknown, load)
    if problems:
        raise ServiceError(problems[0][1], errors=[{"row": "", "column": c, "message": str(m)} for c, m in problems])
    place, place_name = _work_unit(work_unit)
    return _enrol(actor, unit, user, work_unit=place, work_unit_name=place_name, subjects=subject_list,
                  stages=stage_list, max_load=load)


def expert_template():
    return template_response(
        _("评审专家导入模板.xlsx"), EXPERT_COLUMNS, EXPERT_REQUIRED, examples=[EXPERT_EXAMPLE],
        notes=[
            _("姓名、手机号、学科、学段必填。手机号已在系统中的人员（可来自其他单位）直接加入本单位专家库，姓名须与系统中一致。"),
            _("工作单位填系统中的单位代码或单位全称（用于回避本校、本县作品）；系统外单位直接填名称。"),
            _("学科、学段可填多个，用顿号分隔；学段填小学、初中、高中或特殊教育。"),
            _("最大评审量可留空（按 30 件）。新建的账户首次登录时必须修改密码，导入后可下载初始密码表。"),
            _("整张表没有错误才会导入；有错误时一条也不导入，并列出每一行的问题。"),
        ])


@dataclass
class ImportedExpert:
    user: User
    membership: Membership
    password: str  # "" for an account that already existed


@transaction.atomic
def import_experts(actor, unit: Unit, upload) -> list[ImportedExpert]:
    """All or nothing: every row of the sheet joins the unit's pool, or none does."""
    require(actor, "review.manage_experts", unit, _("您只能管理自己单位的专家库。"))
    rows = read_sheet(upload, EXPERT_REQUIRED, EXPERT_COLUMNS)
    errors = RowErrors()
    mobiles = {r.get("手机号").strip() for r in rows}
    existing = {u.mobile: u for u in User.objects.filter(mobile__in=mobiles - {""})}
    usernames = {u.lower() for u in User.objects.filter(username__in=mobiles - {""}).values_list("username", flat=True)}
    seen: dict[str, int] = {}
    parsed = []
    for row in rows:
        if [row.get(c).strip() for c in EXPERT_COLUMNS] == EXPERT_EXAMPLE:
            errors.add(row.number, "姓名", _("这是模板中的示例行，请删除后再上传。"))
            continue
        ok = True
        name = row.get("姓名").strip()
        mobile = row.get("手机号").strip().replace(" ", "").replace("-", "")
        subjects = parse_list(row.get("学科"))
        stages, unknown = parse_stages(row.get("学段"))
        load = _parse_load(row.get("最大评审量"))
        if not name:
            errors.add(row.number, "姓名", _("请填写姓名。"))
            ok = False
        elif len(name) > 50:
            errors.add(row.number, "姓名", _("姓名最多 50 个字。"))
            ok = False
        if not org_rules.is_valid_mobile(mobile):
            errors.add(row.number, "手机号", _("手机号“%(m)s”格式不对，请填写 11 位手机号码，例如 13800138000。") % {"m": mobile})
            ok = False
        elif mobile in seen:
            errors.add(row.number, "手机号", _("手机号 %(m)s 与第 %(first)d 行重复。") % {"m": mobile, "first": seen[mobile]})
            ok = False
        elif mobile in existing and existing[mobile].real_name != name:
            errors.add(row.number, "姓名", _("手机号 %(m)s 已属于系统中的另一位用户，姓名与本行不一致：请核对姓名或手机号。") % {"m": mobile})
            ok = False
        elif mobile not in existing and mobile.lower() in usernames:
            errors.add(row.number, "手机号", _("手机号 %(m)s 已被系统中的其他账户用作用户名。") % {"m": mobile})
            ok = False
        seen.setdefault(mobile, row.number)
        for column, message in _profile_problems(subjects, stages, unknown, load):
            errors.add(row.number, column, message)
            ok = False
        if ok:
            parsed.append((name, mobile, row.get("工作单位").strip(), subjects, stages, load))
    errors.raise_if_any(_("专家"))
    if not parsed:
        raise ServiceError(_("表格中没有专家数据：请在模板的表头下面逐行填写。"))
    out = []
    try:
        for name, mobile, work, subjects, stages, load in parsed:
            user = existing.get(mobile)
            password = ""
            if user is None:
                password = org_rules.generate_password()
                user = User(username=mobile, real_name=name, mobile=mobile, must_change_password=True)
                user.set_password(password)
                user.save()
                record(actor, "orgs.user.create", user, after={"username": mobile, "real_name": name,
                                                                 "must_change_password": True},
                       reason=_("Excel 导入"), unit=unit)
            place, place_name = _work_unit(work)
            _enrol(actor, unit, user, work_unit=place, work_unit_name=place_name, subjects=subjects, stages=stages,
                   max_load=load, reason=_("Excel 导入"))
            membership = Membership.objects.select_related("unit").get(user=user, unit=unit, role=Role.EXPERT)
            out.append(ImportedExpert(user, membership, password))
    except IntegrityError:
        raise ServiceError(_("导入时有其他管理员同时创建了相同手机号的账户，请刷新后重新导入。")) from None
    record(actor, "review.expert.import", unit, after={"count": len(out), "mobiles": [i.user.mobile for i in out]},
           unit=unit)
    return out


# --- rounds ------------------------------------------------------------------------------------
def rounds_for(actor) -> QuerySet[ReviewRound]:
    return ReviewRound.objects.visible_to(actor).select_related("campaign", "level", "unit", "rubric")


def get_round(actor, pk) -> ReviewRound:
    review_round = rounds_for(actor).filter(pk=pk).first()
    if review_round is None:
        raise Http404
    return review_round


def round_places(actor, campaign: Campaign) -> list[tuple[Unit, Level]]:
    """The (unit, level) pairs for which the actor may create rounds in the campaign."""
    levels = {lv.kind: lv for lv in campaign.levels.all()}
    units = [u for u in (actor.admin_units() if not actor.is_superuser else
                         Unit.objects.subtree(campaign.owner).exclude(kind=UnitKind.SCHOOL))]
    out = []
    for unit in sorted(units, key=lambda u: u.path):
        level = levels.get(unit.kind)
        if level is not None and actor.has_perm("review.create_round", RoundTarget(campaign, level, unit)):
            out.append((unit, level))
    return out


def eligible_entries(level: Level, unit: Unit, *, category: str, stage: str = "", subject: str = "") -> QuerySet[Entry]:
    """Entries held at the unit and level (pending or recommended) that fit the filter."""
    qs = Entry.objects.filter(level=level, unit=unit, state__in=REVIEWABLE_STATES, course__category=category)
    if stage:
        qs = qs.filter(course__node__textbook__stage=stage)
    if subject:
        qs = qs.filter(course__node__textbook__subject=subject)
    return qs.order_by("pk")


def round_snapshot(r: ReviewRound) -> dict:
    return {"title": r.title, "category": r.category, "stage": r.stage, "subject": r.subject, "phase": r.phase,
            "rubric": r.rubric_id, "reviewers_per_entry": r.reviewers_per_entry, "opens_at": r.opens_at,
            "closes_at": r.closes_at, "lecture_date": r.lecture_date, "lecture_place": r.lecture_place,
            "status": r.status}


@transaction.atomic
def create_round(actor, campaign: Campaign, unit: Unit, *, title: str, category: str, stage: str = "",
                 subject: str = "", phase: str = Phase.VIDEO, reviewers_per_entry=3, opens_at: datetime | None = None,
                 closes_at: datetime | None = None, lecture_date=None, lecture_place: str = "") -> ReviewRound:
    """A round of the unit at its level over the entries it holds that fit the filter, each under a
    neutral code; the category's rubric; a draft until published."""
    level = campaign.levels.filter(kind=unit.kind).first()
    if level is None or not actor.has_perm("review.create_round", RoundTarget(campaign, level, unit)):
        raise PermissionDenied(_("只有持有这些作品的单位（本级）的管理员可以为本单位创建评审轮次。"))
    categories = list(campaign.categories.values_list("category", flat=True))
    stage, subject = (stage or "").strip(), (subject or "").strip()
    problems = rules.round_problems(title=title, category=category, categories=categories, phase=phase,
                                    reviewers_per_entry=reviewers_per_entry, opens_at=opens_at, closes_at=closes_at,
                                    lecture_date=lecture_date, lecture_place=lecture_place)
    if stage and stage not in STAGE_LABELS:
        problems.append({"row": _("评审轮次"), "column": _("学段"), "message": _("学段只能是小学、初中、高中或特殊教育，或留空表示全部。")})
    _refuse(problems)
    rubric = install_default_rubric(campaign, category)
    if rubric is None:
        raise ServiceError(_("这个类别还没有评价指标：请主办单位先在“评价指标”中设置。"))
    entries = list(eligible_entries(level, unit, category=category, stage=stage, subject=subject))
    if not entries:
        raise ServiceError(_("本单位在本级没有符合条件的作品（待处理或已推荐）：请调整类别、学段或学科后再创建。"))
    review_round = ReviewRound.objects.create(
        campaign=campaign, level=level, unit=unit, title=title.strip(), category=category, stage=stage,
        subject=subject, rubric=rubric, phase=phase, reviewers_per_entry=reviewers_per_entry, opens_at=opens_at,
        closes_at=closes_at, lecture_date=lecture_date if phase == Phase.LECTURE else None,
        lecture_place=(lecture_place or "").strip() if phase == Phase.LECTURE else "", created_by=actor)
    # Codes in a shuffled order, so that a code says nothing about when or from where an entry came.
    random.Random(review_round.pk).shuffle(entries)
    RoundEntry.objects.bulk_create([RoundEntry(round=review_round, entry=e, code=rules.entry_code(review_round.pk, n))
                                    for n, e in enumerate(entries, start=1)])
    record(actor, "review.round.create", review_round, after={**round_snapshot(review_round),
                                                              "entries": len(entries)}, unit=unit)
    return review_round


@transaction.atomic
def publish_round(actor, review_round: ReviewRound) -> ReviewRound:
    """Experts see their assignments once the round is published."""
    require(actor, "review.change_round", review_round)
    if review_round.status != RoundStatus.DRAFT:
        raise ServiceError(_("本轮评审已发布。"))
    if not review_round.assignments.exists():
        raise ServiceError(_("本轮还没有分配任何评审任务：请先为作品分配专家，再发布。"))
    review_round.status = RoundStatus.PUBLISHED
    review_round.save(update_fields=["status"])
    review_round.assignments.filter(state=AssignmentState.PROPOSED).update(state=AssignmentState.ASSIGNED)
    record(actor, "review.round.publish", review_round, before={"status": RoundStatus.DRAFT},
           after={"status": review_round.status}, unit=review_round.unit)
    expert_notify.tasks_published(review_round, expert_notify.published_counts(review_round.assignments.all()))
    return review_round


def candidates(review_round: ReviewRound) -> QuerySet[User]:
    """Experts of the round unit's pool who are not on the panel yet."""
    return (User.objects.filter(memberships__unit=review_round.unit, memberships__role=Role.EXPERT, is_active=True)
            .exclude(review_panels__round=review_round).select_related("expert_profile").order_by("real_name", "pk")
            .distinct())


@transaction.atomic
def add_panel_member(actor, review_round: ReviewRound, expert_id, *, is_chair: bool = False) -> PanelMember:
    require(actor, "review.change_round", review_round)
    expert = candidates(review_round).filter(pk=expert_id).first()
    if expert is None:
        raise ServiceError(_("只能把本单位专家库中的专家加入评审组（他也不能已在组中）：请先在“专家库”中添加。"))
    if is_chair:
        PanelMember.objects.filter(round=review_round, is_chair=True).update(is_chair=False)
    member = PanelMember.objects.create(round=review_round, expert=expert, is_chair=is_chair)
    record(actor, "review.panel.add", review_round, after={"expert": expert.pk, "is_chair": is_chair},
           unit=review_round.unit)
    return member


@transaction.atomic
def set_chair(actor, review_round: ReviewRound, expert_id) -> PanelMember:
    require(actor, "review.change_round", review_round)
    member = PanelMember.objects.filter(round=review_round, expert_id=expert_id).first()
    if member is None:
        raise ServiceError(_("组长须是本轮评审组的成员。"))
    before = list(PanelMember.objects.filter(round=review_round, is_chair=True).values_list("expert_id", flat=True))
    PanelMember.objects.filter(round=review_round, is_chair=True).update(is_chair=False)
    member.is_chair = True
    member.save(update_fields=["is_chair"])
    record(actor, "review.panel.chair", review_round, before={"chair": before[0] if before else None},
           after={"chair": member.expert_id}, unit=review_round.unit)
    return member


@transaction.atomic
def remove_panel_member(actor, review_round: ReviewRound, expert_id) -> None:
    require(actor, "review.change_round", review_round)
    member = PanelMember.objects.filter(round=review_round, expert_id=expert_id).first()
    if member is None:
        raise Http404
    if review_round.assignments.filter(expert_id=expert_id).exists():
        raise ServiceError(_("这位专家还有本轮的评审任务：请先取消他的分配，再移出评审组。"))
    member.delete()
    record(actor, "review.panel.remove", review_round, before={"expert": int(expert_id)}, unit=review_round.unit)


def assign(actor, review_round: ReviewRound, round_entry_id, expert_id) -> Assignment:
    """Assign one expert to one entry by hand (proposed until published), checked by
    review.assignment.check_move: the same rules as the automatic assignment."""
    change = move_assignment(actor, review_round, solver.ADD, round_entry_id, expert_id)
    return Assignment.objects.select_related("expert").get(round=review_round, entry_id=change.added[0][1],
                                                            expert_id=change.added[0][0])


def unassign(actor, review_round: ReviewRound, assignment_id) -> None:
    """Take one assignment back (not once the expert has started scoring)."""
    require(actor, "review.assign", review_round, _("只有本轮所属单位的管理员可以取消分配。"))
    assignment = Assignment.objects.filter(round=review_round, pk=assignment_id).first()
    if assignment is None:
        raise Http404
    move_assignment(actor, review_round, solver.REMOVE, assignment.entry_id, assignment.expert_id)


@dataclass
class EntryRow:
    """An entry of a round as its admin sees it (he knows the course)."""

    round_entry: RoundEntry
    assignments: list[Assignment]

    @property
    def missing(self) -> int:
        return max(0, self.round_entry.round.reviewers_per_entry - len(self.assignments))


def round_entries(actor, review_round: ReviewRound) -> list[EntryRow]:
    require(actor, "review.view_round", review_round)
    rows = (RoundEntry.objects.filter(round=review_round)
            .select_related("round", "entry__course__school", "entry__course__lead_teacher",
                            "entry__course__node__textbook")
            .prefetch_related("assignments__expert").order_by("code"))
    return [EntryRow(re, list(re.assignments.all())) for re in rows]


def panel(review_round: ReviewRound) -> list[PanelMember]:
    return list(review_round.panel.select_related("expert__expert_profile__work_unit")
                .annotate(load=Count("expert__review_assignments",
                                     filter=Q(expert__review_assignments__round=review_round)))
                .order_by("-is_chair", "pk"))


@transaction.atomic
def declare_conflict(actor, review_round: ReviewRound, round_entry_id, expert_id, reason: str) -> Conflict:
    """The round's admin records that an expert must not review a course (e.g. a relative)."""
    require(actor, "review.change_round", review_round)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请写明回避理由，例如“亲属关系”。"))
    round_entry = RoundEntry.objects.select_related("entry").filter(round=review_round, pk=round_entry_id).first()
    if round_entry is None or not PanelMember.objects.filter(round=review_round, expert_id=expert_id).exists():
        raise ServiceError(_("请选择本轮的一件作品和评审组中的一位专家。"))
    course_id = round_entry.entry.course_id
    if Assignment.objects.filter(entry__entry__course_id=course_id, expert_id=expert_id,
                                 state=AssignmentState.SUBMITTED).exists():
        raise ServiceError(_("这位专家已提交这件作品的评分，请由评审组长处理。"))
    conflict, _created = Conflict.objects.get_or_create(expert_id=expert_id, course_id=course_id,
                                                        defaults={"reason": reason[:200], "declared_by": actor})
    removed = Assignment.objects.filter(entry__entry__course_id=course_id, expert_id=expert_id).delete()[0]
    record(actor, "review.conflict.declare", review_round, after={"expert": int(expert_id), "code": round_entry.code,
                                                                  "assignments_removed": removed},
           reason=reason, unit=review_round.unit)
    return conflict


# --- the expert's side (blind: nothing names teacher, school or county) ------------------------
@transaction.atomic
def declare_own_conflict(actor, assignment_id, reason: str) -> Conflict:
    """The expert declares a personal conflict with one of his tasks (回避): the conflict is kept
    for every later round and the assignment is withdrawn, for the admin to assign someone else."""
    assignment = (Assignment.objects.of_expert(actor).select_related("round__unit", "entry__entry")
                  .filter(pk=assignment_id).exclude(round__status=RoundStatus.DRAFT).first())
    if assignment is None:
        raise Http404
    require(actor, "review.declare_conflict", assignment)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("请写明回避理由，例如“亲属关系”或“曾指导过这节课”。"))
    if assignment.state == AssignmentState.SUBMITTED:
        raise ServiceError(_("您已提交这件作品的评分，如需回避请联系评审组长。"))
    conflict, _created = Conflict.objects.get_or_create(
        expert=actor, course_id=assignment.entry.entry.course_id,
        defaults={"reason": reason[:200], "declared_by": actor})
    review_round, code = assignment.round, assignment.entry.code
    assignment.delete()
    record(actor, "review.conflict.declare", review_round, after={"expert": actor.pk, "code": code,
                                                                  "by_expert": True, "assignments_removed": 1},
           reason=reason, unit=review_round.unit)
    return conflict


@dataclass(frozen=True)
class ExpertTask:
    """One assignment as the expert sees it: neutral code, course title, catalog node, category,
    stage, subject, the round's window."""

    id: int
    code: str
    title: str
    node: str
    category: str
    category_label: str
    stage: str
    stage_label: str
    subject: str
    round_id: int
    round_title: str
    phase: str
    phase_label: str
    is_chair: bool
    state: str
    state_label: str
    opens_at: datetime
    closes_at: datetime
    lecture_date: object
    lecture_place: str
    window: str
    window_label: str
    seconds_left: int
    time_left: str
    lecture_at: datetime | None = None  # 试讲: the entry's own time slot
    entry_place: str = ""  # 试讲: the entry's own place (else the round's)


def _node_label(node) -> str:
    tb = node.textbook
    return " ".join(p for p in (str(tb.get_stage_display()), tb.grade, tb.subject, tb.version, tb.volume) if p) + \
        " › " + (node.label_path or node.title)


def neutral_round_title(r: ReviewRound) -> str:
    """What an expert calls a round: its level, category and phase (the admin's own title may name
    the county, so it is never shown to experts)."""
    return _("%(level)s · %(category)s · %(phase)s") % {
        "level": r.level.name, "category": Category(r.category).label, "phase": Phase(r.phase).label}


def my_tasks(user, now: datetime | None = None) -> list[ExpertTask]:
    """The expert's assignments in published rounds, open windows first, soonest deadline first."""
    now = now or timezone.now()
    qs = (Assignment.objects.of_expert(user).exclude(round__status=RoundStatus.DRAFT)
          .select_related("round__level", "entry__entry__course__node__textbook"))
    chairs = set(PanelMember.objects.filter(expert=user, is_chair=True).values_list("round_id", flat=True))
    tasks = []
    for a in qs:
        r, course = a.round, a.entry.entry.course
        tb = course.node.textbook
        window = rules.window_state(r.opens_at, r.closes_at, now)
        seconds = int((r.closes_at - now).total_seconds())
        tasks.append(ExpertTask(
            id=a.pk, code=a.entry.code, title=course.title, node=_node_label(course.node), category=course.category,
            category_label=str(Category(course.category).label), stage=tb.stage, stage_label=str(tb.get_stage_display()),
            subject=tb.subject, round_id=r.pk, round_title=neutral_round_title(r), phase=r.phase,
            phase_label=str(Phase(r.phase).label), is_chair=r.pk in chairs, state=a.state,
            state_label=str(AssignmentState(a.state).label), opens_at=r.opens_at, closes_at=r.closes_at,
            lecture_date=r.lecture_date, lecture_place=r.lecture_place, window=window,
            window_label=rules.window_label(window), seconds_left=seconds, time_left=str(time_left_text(seconds)),
            lecture_at=a.entry.lecture_at, entry_place=a.entry.lecture_place))
    order = {"open": 0, "upcoming": 1, "closed": 2}
    return sorted(tasks, key=lambda t: (order[t.window], t.closes_at, t.code))


def decimal_text(value: Decimal) -> str:
    return rules._fmt(Decimal(value))


# --- scoring: the expert's blind scoring page, autosave, submit, the chair's reopening -----------
# What an expert reaches here names no teacher, school or county and no original file name: the
# entry is its neutral code, files come only from their metadata-free copies (media.clean) under
# neutral names. Autosaves are drafts and not audited one by one; submitting and reopening are.


@dataclass(frozen=True)
class TaskFile:
    """One file of the entry as an expert sees it: neutral name, and whether its blind copy is ready."""

    resource_id: int
    period: int
    kind: str
    label: str
    is_video: bool
    name: str
    state: str  # "ok", "preparing" or "failed"
    message: str


@dataclass
class ScoringItem:
    id: int
    name: str
    description: str
    max_points: Decimal
    weight: Decimal
    points: Decimal | None


@dataclass
class ScoringPage:
    task: ExpertTask
    assignment: Assignment
    sheet: ScoreSheet | None
    dimensions: list[tuple[str, list[ScoringItem]]]
    vetoes: list[VetoItem]
    files: list[TaskFile]
    edit_problem: str | None

    @property
    def can_edit(self) -> bool:
        return self.edit_problem is None

    @property
    def videos(self) -> list[TaskFile]:
        return [f for f in self.files if f.is_video]

    @property
    def documents(self) -> list[TaskFile]:
        return [f for f in self.files if not f.is_video]


FILE_PREPARING = "preparing"
SLOT_ORDER = {kind: n for n, kind in enumerate(ResourceKind.values)}


def _task_qs(actor) -> QuerySet[Assignment]:
    return (Assignment.objects.of_expert(actor).exclude(round__status=RoundStatus.DRAFT)
            .select_related("round__level", "round__rubric", "entry__entry__course__node__textbook"))


def get_task(actor, assignment_id) -> Assignment:
    """The expert's own assignment in a published round (anything else: 404)."""
    assignment = _task_qs(actor).filter(pk=assignment_id).first() if assignment_id is not None else None
    if assignment is None or not actor.has_perm("review.score", assignment):
        raise Http404(_("没有这项评审任务。"))
    return assignment


def _expert_task(a: Assignment, now: datetime, is_chair: bool) -> ExpertTask:
    r, course = a.round, a.entry.entry.course
    tb = course.node.textbook
    window = _round_window(r, now)
    seconds = int((r.closes_at - now).total_seconds())
    return ExpertTask(
        id=a.pk, code=a.entry.code, title=course.title, node=_node_label(course.node), category=course.category,
        category_label=str(Category(course.category).label), stage=tb.stage, stage_label=str(tb.get_stage_display()),
        subject=tb.subject, round_id=r.pk, round_title=neutral_round_title(r), phase=r.phase,
        phase_label=str(Phase(r.phase).label), is_chair=is_chair, state=a.state,
        state_label=str(AssignmentState(a.state).label), opens_at=r.opens_at, closes_at=r.closes_at,
        lecture_date=r.lecture_date, lecture_place=r.lecture_place, window=window,
        window_label=rules.window_label(window), seconds_left=seconds, time_left=str(time_left_text(seconds)),
        lecture_at=a.entry.lecture_at, entry_place=a.entry.lecture_place)


def _round_window(r: ReviewRound, now: datetime) -> str:
    if r.status == RoundStatus.CLOSED:
        return "closed"
    return rules.window_state(r.opens_at, r.closes_at, now)


def _beijing(value: datetime) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def _edit_problem(a: Assignment, sheet: ScoreSheet | None, now: datetime) -> str | None:
    if a.round.phase == Phase.LECTURE:  # the chair enters the scores (review.lecture)
        return rules.lecture_expert_problem()
    return rules.sheet_edit_problem(
        window=_round_window(a.round, now), submitted=a.state == AssignmentState.SUBMITTED,
        reopened=sheet is not None and sheet.reopened_at is not None, closes_at_text=_beijing(a.round.closes_at))


def _task_resources(a: Assignment) -> list[Resource]:
    """The entry's files an expert reviews: documents in the 课例设计 phase, all files otherwise."""
    qs = (Resource.objects.filter(period__course_id=a.entry.entry.course_id)
          .exclude(file__probe_status=ProbeStatus.FAILED)
          .select_related("period", "file__clean_copy"))
    if a.round.phase == Phase.DESIGN:
        qs = qs.exclude(slot_kind__in=VIDEO_KINDS)
    return sorted(qs, key=lambda r: (r.period.number, SLOT_ORDER.get(r.slot_kind, 99), r.pk))


def _clean_copy_of(stored) -> CleanCopy | None:
    try:
        return stored.clean_copy
    except CleanCopy.DoesNotExist:
        return None


def enqueue_clean_copies(file_ids) -> int:
    """Send the files without a blind copy to the queue (media.tasks.make_clean_copy, made once)."""
    from media.tasks import make_clean_copy

    file_ids = list(file_ids)
    done = set(CleanCopy.objects.filter(source_id__in=file_ids).values_list("source_id", flat=True))
    queued = _queued_clean_copy_ids()
    todo = [fid for fid in dict.fromkeys(file_ids) if fid not in done and str(fid) not in queued]
    for fid in todo:
        make_clean_copy.enqueue(str(fid))
    return len(todo)


def _queued_clean_copy_ids() -> set[str]:
    """Files whose copy waits in, or runs from, the task queue (database backend; with another
    backend nothing is known to be queued), so that reopening the page does not queue it again."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return set()
    rows = DBTaskResult.objects.filter(task_path="media.tasks.make_clean_copy", status__in=["READY", "RUNNING"])
    return {str((a.get("args") or [None])[0]) for a in rows.values_list("args_kwargs", flat=True)}


def enqueue_round_clean_copies(review_round: ReviewRound) -> int:
    """When a round is published: the blind copies of every file of its entries."""
    ids = Resource.objects.filter(period__course__entries__round_entries__round=review_round)
    if review_round.phase == Phase.DESIGN:
        ids = ids.exclude(slot_kind__in=VIDEO_KINDS)
    return enqueue_clean_copies(list(ids.values_list("file_id", flat=True).distinct()))


def task_files(a: Assignment) -> list[TaskFile]:
    """The entry's files under neutral names; a file's blind copy is sent to the queue on first
    open if publishing did not already (with the immediate backend it is ready at once)."""
    resources = _task_resources(a)
    missing = [r.file_id for r in resources if _clean_copy_of(r.file) is None]
    if missing:
        enqueue_clean_copies(missing)
        resources = _task_resources(a)
    out = []
    for r in resources:
        copy = _clean_copy_of(r.file)
        label = str(ResourceKind(r.slot_kind).label) if r.slot_kind in ResourceKind.values else ""
        state, message = "ok", ""
        if copy is None:
            state, message = FILE_PREPARING, _("文件正在准备中，请稍后刷新页面。")
        elif not copy.ok:
            state, message = "failed", _("这个文件暂时不能提供给专家，请联系组织单位。")
        out.append(TaskFile(resource_id=r.pk, period=r.period.number, kind=r.slot_kind, label=label,
                            is_video=r.slot_kind in VIDEO_KINDS, name=neutral_name(a.entry.code, r.period.number,
                                                                                    label, r.file.kind),
                            state=state, message=message))
    return out


def task_file_response(request, actor, assignment_id, resource_id):
    """Serve one file of the expert's task: its blind copy only, under its neutral name."""
    a = get_task(actor, assignment_id)
    resource = next((r for r in _task_resources(a) if r.pk == resource_id), None)
    if resource is None:
        raise Http404(_("没有这个文件。"))
    copy = _clean_copy_of(resource.file)
    if copy is None:
        enqueue_clean_copies([resource.file_id])
        resource = next(r for r in _task_resources(a) if r.pk == resource_id)
        copy = _clean_copy_of(resource.file)
    if copy is None or not copy.ok:
        raise Http404(_("文件正在准备中，请稍后再试。"))
    label = str(ResourceKind(resource.slot_kind).label) if resource.slot_kind in ResourceKind.values else ""
    return file_response(request, resource.file, as_attachment=request.GET.get("download") == "1",
                         key=copy.storage_key, name=neutral_name(a.entry.code, resource.period.number, label,
                                                                 resource.file.kind))


def _sheet_of(a: Assignment) -> ScoreSheet | None:
    return ScoreSheet.objects.filter(assignment=a).select_related("veto").first()


def scoring_page(actor, assignment_id, now: datetime | None = None) -> ScoringPage:
    now = now or timezone.now()
    a = get_task(actor, assignment_id)
    sheet = _sheet_of(a)
    given = {s.item_id: s.points for s in sheet.scores.all()} if sheet else {}
    dimensions = [(d.name, [ScoringItem(i.pk, i.name, i.description, i.max_points, i.weight, given.get(i.pk))
                            for i in d.items.all()])
                  for d in a.round.rubric.dimensions.prefetch_related("items")]
    is_chair = PanelMember.objects.filter(round_id=a.round_id, expert=actor, is_chair=True).exists()
    return ScoringPage(task=_expert_task(a, now, is_chair), assignment=a, sheet=sheet, dimensions=dimensions,
                       vetoes=list(a.round.rubric.vetoes.all()), files=task_files(a),
                       edit_problem=_edit_problem(a, sheet, now))


def _sheet_items(rubric: Rubric) -> list[rules.SheetItem]:
    return [rules.SheetItem(i.pk, i.name, i.max_points, i.weight)
            for i in RubricItem.objects.filter(dimension__rubric=rubric).order_by("dimension__order", "dimension_id",
                                                                                  "order", "pk")]


def sheet_snapshot(sheet: ScoreSheet) -> dict:
    return {"points": {str(s.item_id): str(s.points) for s in sheet.scores.order_by("item_id")},
            "veto": sheet.veto_id, "veto_reason": sheet.veto_reason, "comment": sheet.comment,
            "total": str(sheet.total) if sheet.total is not None else None}


def clean_sheet_input(a: Assignment, *, points: dict, veto_id=None, veto_reason: str = "", comment: str = "",
                      final: bool = False) -> rules.CleanSheet:
    """A sheet as typed (item id → points, veto, comment) checked against the round's rubric
    (``rules.clean_sheet``); every problem refuses it with a ServiceError listing them."""
    wanted = {}
    for key, value in (points or {}).items():
        try:
            wanted[int(key)] = value
        except (TypeError, ValueError):
            continue
    clean, problems = rules.clean_sheet(_sheet_items(a.round.rubric),
                                        list(a.round.rubric.vetoes.values_list("pk", flat=True)), raw_points=wanted,
                                        veto_id=veto_id, veto_reason=veto_reason, comment=comment, final=final)
    if problems:
        raise ServiceError(problems[0]["message"] if len(problems) == 1 else _(
            "评分有 %(n)d 处问题，未保存：%(first)s") % {"n": len(problems), "first": problems[0]["message"]},
            errors=problems)
    return clean


def write_sheet(a: Assignment, sheet: ScoreSheet | None, clean: rules.CleanSheet, now: datetime, final: bool,
                entered_by=None) -> ScoreSheet:
    """Store a checked sheet (its points item by item) and move the assignment to started or
    submitted. ``entered_by``: the chair who typed it in for the expert (试讲)."""
    if sheet is None:
        sheet = ScoreSheet(assignment=a)
    sheet.veto_id, sheet.veto_reason, sheet.comment = clean.veto_id, clean.veto_reason, clean.comment
    sheet.total, sheet.saved_at = clean.total, now
    if entered_by is not None:
        sheet.entered_by = entered_by
    if final:
        sheet.submitted_at = now
    sheet.save()
    sheet.scores.exclude(item_id__in=list(clean.points)).delete()
    existing = {s.item_id: s for s in sheet.scores.all()}
    for item_id, value in clean.points.items():
        score = existing.get(item_id)
        if score is None:
            Score.objects.create(sheet=sheet, item_id=item_id, points=value)
        elif score.points != value:
            score.points = value
            score.save(update_fields=["points"])
    a.state = AssignmentState.SUBMITTED if final else AssignmentState.STARTED
    a.save(update_fields=["state"])
    return sheet


@transaction.atomic
def save_sheet(actor, assignment_id, *, points: dict, veto_id=None, veto_reason: str = "", comment: str = "",
               final: bool = False, now: datetime | None = None) -> ScoreSheet:
    """Save the expert's sheet (a draft: autosave), or submit it (``final``): points per item
    0..max, a veto with its written reason, a comment. Refused once submitted, and after the
    window closes unless the chair reopened the sheet."""
    now = now or timezone.now()
    a = get_task(actor, assignment_id)
    a = Assignment.objects.select_for_update().select_related("round__rubric", "entry").get(pk=a.pk)
    sheet = _sheet_of(a)
    problem = _edit_problem(a, sheet, now)
    if problem:
        raise ServiceError(problem)
    clean = clean_sheet_input(a, points=points, veto_id=veto_id, veto_reason=veto_reason, comment=comment,
                              final=final)
    sheet = write_sheet(a, sheet, clean, now, final)
    if final:
        record(actor, "review.sheet.submit", a, after={"code": a.entry.code, **sheet_snapshot(sheet)},
               unit=a.round.unit)
    return sheet


def submit_sheet(actor, assignment_id, **data) -> ScoreSheet:
    return save_sheet(actor, assignment_id, final=True, **data)


def chair_rounds(actor) -> QuerySet[ReviewRound]:
    """Published rounds whose panel the actor chairs."""
    return (ReviewRound.objects.filter(panel__expert=actor, panel__is_chair=True)
            .exclude(status=RoundStatus.DRAFT).select_related("level"))


def chair_sheets(actor, round_id) -> tuple[ReviewRound, list[Assignment]]:
    """The chair's view of his round: every assignment (code, expert, state), to reopen one."""
    review_round = chair_rounds(actor).filter(pk=round_id).first()
    if review_round is None:
        raise Http404(_("只有本轮评审组组长可以查看。"))
    rows = list(Assignment.objects.filter(round=review_round).select_related("entry", "expert", "sheet")
                .order_by("entry__code", "expert__real_name", "pk"))
    return review_round, rows


@transaction.atomic
def reopen_sheet(actor, assignment_id, reason: str, now: datetime | None = None) -> ScoreSheet:
    """The panel's chair reopens one expert's sheet, with a written reason (audited): the expert may
    change and submit it again, also after the window closed."""
    now = now or timezone.now()
    a = (Assignment.objects.select_for_update().select_related("round", "entry", "expert")
         .filter(pk=assignment_id).exclude(round__status=RoundStatus.DRAFT).first()
         if assignment_id is not None else None)
    if a is None:
        raise Http404(_("没有这项评审任务。"))
    is_chair = actor.has_perm("review.reopen_sheet", a)
    if not is_chair and not PanelMember.objects.filter(round_id=a.round_id, expert=actor).exists() and \
            not actor.has_perm("review.view_round", a.round):
        raise Http404(_("没有这项评审任务。"))
    sheet = _sheet_of(a)
    problem = rules.reopen_problem(is_chair=is_chair, has_sheet=sheet is not None,
                                   submitted=a.state == AssignmentState.SUBMITTED,
                                   window=_round_window(a.round, now), reason=reason)
    if problem:
        if not is_chair:
            raise PermissionDenied(problem)
        raise ServiceError(problem)
    if sheet is None:
        sheet = ScoreSheet.objects.create(assignment=a)
    before = {"code": a.entry.code, "expert": a.expert_id, "state": a.state,
              "submitted_at": sheet.submitted_at}
    sheet.submitted_at = None
    sheet.reopened_at, sheet.reopened_by, sheet.reopen_reason = now, actor, reason.strip()
    sheet.save(update_fields=["submitted_at", "reopened_at", "reopened_by", "reopen_reason"])
    a.state = AssignmentState.STARTED
    a.save(update_fields=["state"])
    record(actor, "review.sheet.reopen", a, before=before, after={"code": a.entry.code, "expert": a.expert_id,
                                                                  "state": a.state},
           reason=reason.strip(), unit=a.round.unit)
    expert_notify.sheet_reopened(a, reason)
    return sheet


# --- automatic assignment, manual moves, undo (part: autoassign) -------------------------------
# One rule set: the round's data becomes review.assignment's plain Problem; the solver proposes,
# check_move judges every manual add / remove / move. New pairs are PROPOSED (experts do not see
# them) until the admin publishes. Every change is stored (AssignmentChange) so the last one can be
# undone, and audited.
LOCKED_STATES = (AssignmentState.STARTED, AssignmentState.SUBMITTED)


def _places(unit: Unit | None) -> tuple[int | None, int | None]:
    """(school id, county id) of a unit, for the conflict rules (parent must be loaded)."""
    if unit is None:
        return None, None
    if unit.kind == UnitKind.SCHOOL:
        parent = unit.parent if unit.parent_id else None
        return unit.pk, (parent.pk if parent is not None and parent.kind == UnitKind.COUNTY else None)
    if unit.kind == UnitKind.COUNTY:
        return None, unit.pk
    return None, None


@dataclass
class RoundProblem:
    """A round's assignment problem and its current pairs, read in a fixed number of queries."""

    problem: solver.Problem
    round_entries: list[RoundEntry]
    panel: list[PanelMember]
    assignments: list[Assignment]
    other_load: dict[int, int]  # expert id -> entries in his other open rounds

    @property
    def pairs(self) -> set[solver.Pair]:
        return {(a.expert_id, a.entry_id) for a in self.assignments}

    @property
    def locked(self) -> set[solver.Pair]:
        return {(a.expert_id, a.entry_id) for a in self.assignments if a.state in LOCKED_STATES}


def round_problem(review_round: ReviewRound) -> RoundProblem:
    """review.assignment's plain data for the round: entries (subject and stage of the catalog
    node's textbook, school, county, lead teacher and team), the panel's experts (profile subjects,
    stages, load left after their other open rounds, their work unit's school and county), the
    declared conflicts, N and whether the round is above county level."""
    round_entries = list(RoundEntry.objects.filter(round=review_round)
                         .select_related("entry__course__school__parent", "entry__course__node__textbook")
                         .prefetch_related("entry__course__members").order_by("code"))
    members = list(review_round.panel.select_related("expert__expert_profile__work_unit__parent")
                   .order_by("-is_chair", "pk"))
    expert_ids = [m.expert_id for m in members]
    other_load = dict(Assignment.objects.filter(expert_id__in=expert_ids).exclude(round=review_round)
                      .exclude(round__status=RoundStatus.CLOSED).values_list("expert_id")
                      .annotate(n=Count("id")).values_list("expert_id", "n"))
    entry_of_course = {re.entry.course_id: re.pk for re in round_entries}
    conflicts = {(x, entry_of_course[c]) for x, c in Conflict.objects.filter(
        expert_id__in=expert_ids, course_id__in=list(entry_of_course)).values_list("expert_id", "course_id")}
    entries = []
    for re in round_entries:
        course = re.entry.course
        school_id, county_id = _places(course.school)
        tb = course.node.textbook
        entries.append(solver.Entry(
            id=re.pk, subject=tb.subject, stage=tb.stage, school_id=school_id, county_id=county_id,
            member_user_ids=frozenset({course.lead_teacher_id, *(m.user_id for m in course.members.all())}),
            title=f"{re.code} {course.title}"))
    experts = []
    for m in members:
        profile = getattr(m.expert, "expert_profile", None)
        school_id, county_id = _places(profile.work_unit if profile else None)
        max_load = profile.max_load if profile else DEFAULT_MAX_LOAD
        experts.append(solver.Expert(
            id=m.expert_id, user_id=m.expert_id, subjects=frozenset(profile.subjects if profile else ()),
            stages=frozenset(profile.stages if profile else ()),
            max_load=max(0, max_load - other_load.get(m.expert_id, 0)), school_id=school_id, county_id=county_id,
            name=m.expert.real_name or m.expert.username))
    problem = solver.Problem(entries, experts, review_round.reviewers_per_entry,
                             above_county=review_round.level.kind in (UnitKind.CITY, UnitKind.PROVINCE),
                             conflicts=conflicts)
    assignments = list(Assignment.objects.filter(round=review_round).select_related("expert").order_by("pk"))
    return RoundProblem(problem, round_entries, members, assignments, other_load)


def _profile_max_load(rp: RoundProblem, expert_id: int) -> int:
    member = next(m for m in rp.panel if m.expert_id == expert_id)
    profile = getattr(member.expert, "expert_profile", None)
    return profile.max_load if profile else DEFAULT_MAX_LOAD


def _lock_open_round(actor, review_round: ReviewRound) -> ReviewRound:
    require(actor, "review.assign", review_round, _("只有本轮所属单位的管理员可以分配评审任务。"))
    review_round = ReviewRound.objects.select_for_update().select_related("level", "unit").get(pk=review_round.pk)
    if review_round.status == RoundStatus.CLOSED or timezone.now() >= review_round.closes_at:
        raise ServiceError(_("本轮评审已截止，不能再调整分配。"))
    return review_round


def _codes(rp: RoundProblem, rows) -> list[list]:
    """[expert id, code, state] for the audit log."""
    code = {re.pk: re.code for re in rp.round_entries}
    return [[x, code.get(e, e), state] for x, e, state in rows]


@transaction.atomic
def auto_assign(actor, review_round: ReviewRound) -> solver.Assignment:
    """Complete the round's assignment with the solver, keeping every existing pair; the new pairs
    are proposed (not visible to experts) until published. Entries still short are in the result's
    ``shortages`` with the solver's reasons."""
    review_round = _lock_open_round(actor, review_round)
    rp = round_problem(review_round)
    if not rp.panel:
        raise ServiceError(_("评审组还没有专家：请先把本单位专家库中的专家加入评审组，再自动分配。"))
    result = solver.solve(rp.problem, fixed=rp.pairs)
    added = [[x, e, AssignmentState.PROPOSED] for x, e in result.new_pairs]
    if added:
        Assignment.objects.bulk_create([Assignment(round=review_round, entry_id=e, expert_id=x, assigned_by=actor,
                                                   state=AssignmentState.PROPOSED) for x, e, _s in added])
        AssignmentChange.objects.create(round=review_round, kind=ChangeKind.AUTO, added=added, actor=actor)
    record(actor, "review.assignment.auto", review_round, after={
        "added": _codes(rp, added), "shortages": [s.message for s in result.shortages]}, unit=review_round.unit)
    return result


@transaction.atomic
def move_assignment(actor, review_round: ReviewRound, action: str, round_entry_id, expert_id,
                    to_expert_id=None) -> AssignmentChange:
    """One manual change — add an expert to an entry, remove him, or move the entry from one expert
    to another — judged by review.assignment.check_move; stored for undo and audited."""
    review_round = _lock_open_round(actor, review_round)
    if action not in (solver.ADD, solver.REMOVE, solver.MOVE):
        raise ServiceError(_("分配操作只能是添加（add）、移除（remove）或调整（move）。"))
    if round_entry_id is None or expert_id is None or (action == solver.MOVE and to_expert_id is None):
        raise ServiceError(_("请选择本轮的一件作品和评审组中的一位专家。"))
    rp = round_problem(review_round)
    target = expert_id if action == solver.ADD else to_expert_id
    if target is not None and int(target) not in rp.problem.expert_by_id:
        raise ServiceError(_("这位专家不在本轮评审组中：请先把他加入评审组。"))
    if int(round_entry_id) not in rp.problem.entry_by_id:
        raise ServiceError(_("请选择本轮的一件作品和评审组中的一位专家。"))
    decision = solver.check_move(rp.problem, rp.pairs, solver.Move(action, int(round_entry_id), int(expert_id),
                                                                   int(to_expert_id) if to_expert_id else None),
                                 locked=rp.locked)
    if not decision.ok:
        elsewhere = rp.other_load.get(int(target), 0) if target is not None else 0
        if decision.rule == "load" and elsewhere:
            x = rp.problem.expert_by_id[int(target)]
            raise ServiceError(_("%(expert)s 在其他未结束的评审轮次已有 %(other)d 件、本轮 %(here)d 件，达到评审上限 "
                                 "%(max)d 件；请选择其他专家或提高其上限。") % {
                "expert": x.label, "other": elsewhere, "here": sum(1 for e, _r in rp.pairs if e == x.id),
                "max": _profile_max_load(rp, x.id)})
        raise ServiceError(decision.message)
    entry_id, expert_id = int(round_entry_id), int(expert_id)
    removed, added = [], []
    if action in (solver.REMOVE, solver.MOVE):
        old = next(a for a in rp.assignments if (a.expert_id, a.entry_id) == (expert_id, entry_id))
        removed.append([expert_id, entry_id, old.state])
        old.delete()
    if action in (solver.ADD, solver.MOVE):
        target = expert_id if action == solver.ADD else int(to_expert_id)
        Assignment.objects.create(round=review_round, entry_id=entry_id, expert_id=target, assigned_by=actor,
                                  state=AssignmentState.PROPOSED)
        added.append([target, entry_id, AssignmentState.PROPOSED])
    change = AssignmentChange.objects.create(round=review_round, kind=action, added=added, removed=removed,
                                             actor=actor)
    code = next(re.code for re in rp.round_entries if re.pk == entry_id)
    verb = {solver.ADD: "create", solver.REMOVE: "delete", solver.MOVE: "move"}[action]
    record(actor, f"review.assignment.{verb}", review_round,
           before={"round": review_round.pk, "code": code, "expert": expert_id} if removed else None,
           after={"round": review_round.pk, "code": code, "expert": added[0][0]} if added else None,
           reason="；".join(decision.warnings), unit=review_round.unit)
    return change


def last_change(review_round: ReviewRound) -> AssignmentChange | None:
    return review_round.assignment_changes.filter(undone_at__isnull=True).order_by("-pk").first()


@transaction.atomic
def undo_last_change(actor, review_round: ReviewRound) -> AssignmentChange:
    """Undo the round's last assignment change not undone yet (automatic or manual): its added pairs
    go, its removed pairs come back with their state. Refused when an added pair has been started
    meanwhile, or a pair to restore now breaks a rule (e.g. a conflict declared since)."""
    review_round = _lock_open_round(actor, review_round)
    change = review_round.assignment_changes.select_for_update().filter(undone_at__isnull=True).order_by("-pk").first()
    if change is None:
        raise ServiceError(_("本轮没有可以撤销的分配操作。"))
    rp = round_problem(review_round)
    current = {(a.expert_id, a.entry_id): a for a in rp.assignments}
    added = [current[(x, e)] for x, e, _s in change.added if (x, e) in current]
    if any(a.state in LOCKED_STATES for a in added):
        raise ServiceError(_("这次操作分配的专家已开始评分，不能撤销；如需调整，请逐项调整分配。"))
    for x, e, _s in change.removed:
        expert, entry = rp.problem.expert_by_id.get(x), rp.problem.entry_by_id.get(e)
        if expert is None or entry is None:
            raise ServiceError(_("要恢复的专家已不在本轮评审组中，不能撤销。"))
        reason = rp.problem.exclusion(expert, entry)
        if reason is not None:
            raise ServiceError(_("不能撤销：") + solver.refusal_message(reason, expert, entry))
    Assignment.objects.filter(pk__in=[a.pk for a in added]).delete()
    Assignment.objects.bulk_create([Assignment(round=review_round, entry_id=e, expert_id=x, assigned_by=actor,
                                               state=state)
                                    for x, e, state in change.removed if (x, e) not in current])
    change.undone_at, change.undone_by = timezone.now(), actor
    change.save(update_fields=["undone_at", "undone_by"])
    record(actor, "review.assignment.undo", review_round, before={"kind": change.kind,
                                                                  "added": _codes(rp, change.added),
                                                                  "removed": _codes(rp, change.removed)},
           after={"change": change.pk}, unit=review_round.unit)
    return change


@transaction.atomic
def publish_assignments(actor, review_round: ReviewRound) -> int:
    """Make the proposed pairs visible to their experts (a draft round is published with them)."""
    require(actor, "review.change_round", review_round)
    if review_round.status == RoundStatus.DRAFT:
        count = review_round.assignments.filter(state=AssignmentState.PROPOSED).count()
        publish_round(actor, review_round)
        return count
    proposed = list(review_round.assignments.filter(state=AssignmentState.PROPOSED).only("pk", "expert_id"))
    count = review_round.assignments.filter(state=AssignmentState.PROPOSED).update(state=AssignmentState.ASSIGNED)
    if not count:
        raise ServiceError(_("没有待发布的分配。"))
    expert_notify.tasks_published(review_round, expert_notify.published_counts(proposed))
    record(actor, "review.assignment.publish", review_round, after={"published": count}, unit=review_round.unit)
    return count


@dataclass(frozen=True)
class PlanEntry:
    round_entry: RoundEntry
    assignments: list[Assignment]
    missing: int
    shortage: str  # the solver's reason when the entry is short, else ""


@dataclass(frozen=True)
class PlanExpert:
    member: PanelMember
    load: int  # entries in this round
    proposed: int
    capacity: int  # what is left of his max load after his other open rounds
    stage_labels: list[str]


@dataclass(frozen=True)
class Plan:
    entries: list[PlanEntry]
    experts: list[PlanExpert]
    shortages: list[str]
    proposed: int
    last_change: AssignmentChange | None


def assignment_plan(actor, review_round: ReviewRound) -> Plan:
    """The round's assignment as its admin reviews it before publishing: per entry its experts (and
    why it is short), per expert his load, the proposed count and the change that undo would take back."""
    require(actor, "review.view_round", review_round)
    rp = round_problem(review_round)
    by_entry: dict[int, list[Assignment]] = {}
    for a in rp.assignments:
        by_entry.setdefault(a.entry_id, []).append(a)
    # Why a short entry is short: what the solver could still add. Entries it can complete say so;
    # the others carry the solver's reasons.
    pairs, n = rp.pairs, review_round.reviewers_per_entry
    reasons = {s.entry_id: s.message for s in solver.solve(rp.problem, fixed=pairs).shortages}
    on_entry: dict[int, int] = {}
    for _x, e in pairs:
        on_entry[e] = on_entry.get(e, 0) + 1
    for entry in rp.problem.entries:
        if on_entry.get(entry.id, 0) < n and entry.id not in reasons:
            reasons[entry.id] = _("《%(title)s》还差 %(missing)d 位评审专家：点击“自动分配”即可补足。") % {
                "title": entry.label, "missing": n - on_entry.get(entry.id, 0)}
    entries = [PlanEntry(re, sorted(by_entry.get(re.pk, []), key=lambda a: a.expert.real_name),
                         max(0, n - len(by_entry.get(re.pk, []))), reasons.get(re.pk, ""))
               for re in rp.round_entries]
    experts = []
    for m, x in zip(rp.panel, rp.problem.experts, strict=True):
        mine = [a for a in rp.assignments if a.expert_id == m.expert_id]
        experts.append(PlanExpert(m, len(mine), sum(1 for a in mine if a.state == AssignmentState.PROPOSED),
                                  x.max_load, [str(STAGE_LABELS.get(s, s)) for s in sorted(x.stages)]))
    return Plan(entries, experts, [reasons[re.pk] for re in rp.round_entries if re.pk in reasons],
                sum(1 for a in rp.assignments if a.state == AssignmentState.PROPOSED), last_change(review_round))


# --- round results: aggregation, ranking, exports and the proposal applied ----------------------------------
# The round's admin (and its panel chair, read-only) sees the submitted sheets aggregated with the round's
# method, the ranking per category and subject, the Excel export and the printable panel report. The admin
# then asks review.proposal for the set to recommend under the unit's real quotas, node rule and share caps
# (resolved as selection.services resolves them), adjusts it and applies it through selection.services.decide.


def results_round(actor, pk) -> ReviewRound:
    """A round whose results the actor may see: its admins (and those above) and its panel chair."""
    review_round = (ReviewRound.objects.select_related("campaign", "level", "unit", "rubric")
                    .filter(pk=pk).first())
    if review_round is None or not actor.has_perm("review.view_results", review_round):
        raise Http404
    return review_round


def result_settings(review_round: ReviewRound) -> agg.Settings:
    return agg.Settings(method=review_round.method, min_scored=review_round.min_scored,
                        scale_max=float(review_round.rubric.total_points),
                        disagreement_threshold=float(review_round.disagreement_threshold))


@transaction.atomic
def set_result_settings(actor, review_round: ReviewRound, *, method: str, min_scored, disagreement_threshold):
    """The round's aggregation method, k (sheets before z-scores) and disagreement threshold."""
    require(actor, "review.change_results", review_round, _("只有本轮评审所属单位的管理员可以修改汇总方法。"))
    try:
        k, threshold = int(min_scored), Decimal(str(disagreement_threshold)).quantize(Decimal("0.1"))
    except (TypeError, ValueError, ArithmeticError):
        raise ServiceError(_("最少评分数 k 须为整数，分歧阈值须为数字（最多一位小数）。")) from None
    candidate = agg.Settings(method=method, min_scored=k, scale_max=float(review_round.rubric.total_points),
                             disagreement_threshold=float(threshold))
    problems = agg.settings_problems(candidate)
    if k > 1000:
        problems.append(_("标准分换算所需的最少评分数 k 为 %(k)s：不能超过 1000。") % {"k": k})
    if not 0 <= threshold <= review_round.rubric.total_points:
        problems.append(_("分歧阈值 %(t)s 无效：须在 0 到满分之间。") % {"t": threshold})
    if problems:
        raise ServiceError(problems[0], errors=problems)
    before = {"method": review_round.method, "min_scored": review_round.min_scored,
              "disagreement_threshold": str(review_round.disagreement_threshold)}
    review_round.method, review_round.min_scored, review_round.disagreement_threshold = method, k, threshold
    review_round.save(update_fields=["method", "min_scored", "disagreement_threshold"])
    record(actor, "review.round.result_settings", review_round, before=before,
           after={"method": method, "min_scored": k, "disagreement_threshold": str(threshold)}, unit=review_round.unit)
    return review_round


@dataclass
class RoundResults:
    round: ReviewRound
    aggregate: agg.Aggregate
    groups: list[agg.Group]
    entries: list[agg.Entry]  # every entry of the round (entry_id = selection Entry pk)
    codes: dict[int, str]  # neutral code by entry id
    rows: dict[int, RoundEntry]  # by entry id, with course, node and school loaded
    expert_names: dict[int, str]

    def code(self, entry_id: int) -> str:
        return self.codes.get(entry_id, "")


def _round_rows(review_round: ReviewRound) -> dict[int, RoundEntry]:
    qs = (RoundEntry.objects.filter(round=review_round)
          .select_related("entry__course__school", "entry__node__textbook", "adjudication").order_by("code"))
    return {re.entry_id: re for re in qs}


def round_results(actor, review_round: ReviewRound) -> RoundResults:
    """Aggregate the round's submitted sheets with its method and rank its entries (a constant
    number of queries). Raises ServiceError when the sheets cannot be aggregated."""
    require(actor, "review.view_results", review_round, _("只有本轮评审所属单位的管理员和评审组组长可以查看评审结果。"))
    rows = _round_rows(review_round)
    entries = [agg.Entry(entry_id, re.entry.course.category, re.entry.node.textbook.subject, re.entry.course.title,
                         re.entry.course.submitted_at)
               for entry_id, re in rows.items()]
    sheets = (ScoreSheet.objects.filter(assignment__round=review_round, submitted_at__isnull=False)
              .select_related("assignment__entry", "veto").order_by("assignment__expert_id", "assignment__entry_id"))
    scores = [agg.Score(s.assignment.expert_id, s.assignment.entry.entry_id, float(s.total or 0), s.veto_id is not None,
                        s.veto_reason) for s in sheets]
    result = agg.aggregate(scores, result_settings(review_round))
    adjudications = stored_adjudications(rows, result)
    if adjudications:
        result = agg.aggregate(scores, result_settings(review_round), adjudications)
    names = dict(User.objects.filter(pk__in=result.experts).values_list("pk", "real_name"))
    return RoundResults(review_round, result, agg.rank(entries, result), entries,
                        {entry_id: re.code for entry_id, re in rows.items()}, rows, names)


def results_workbook(results: RoundResults):
    """The three sheets of aggregation.export_sheets as an .xlsx (XlsxWriter, constant memory), in a
    temporary file positioned at its start. Titles carry the neutral code in front."""
    import tempfile

    import xlsxwriter

    titled = [e._replace(title=f"{results.code(e.entry_id)} {e.title}".strip()) for e in results.entries]
    sheets = agg.export_sheets(results.aggregate, titled, results.expert_names)
    handle = tempfile.TemporaryFile(suffix=".xlsx")
    book = xlsxwriter.Workbook(handle, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#EEF2F7", "text_wrap": True})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name)
        for col, text in enumerate(sheet.headers):
            ws.write_string(0, col, str(text), head)
        for r, row in enumerate(sheet.rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, bool):
                    ws.write_string(r, col, str(value))
                elif isinstance(value, int | float):
                    ws.write_number(r, col, value)
                elif value in (None, ""):
                    continue
                else:
                    ws.write_string(r, col, str(value))
        ws.freeze_panes(1, 0)
    book.close()
    handle.seek(0)
    return handle


def results_filename(review_round: ReviewRound) -> str:
    return _("评审结果-第%(n)d轮.xlsx") % {"n": review_round.pk}


# --- the proposal ---
@dataclass(frozen=True)
class ProposalRow:
    entry_id: int
    code: str
    title: str
    unit: str
    subject: str
    score: str
    state: str  # the entry's selection state now
    chosen: bool
    forced: str  # "in", "out" or ""
    reason: str  # the admin's reason for forcing
    message: str  # why left out (Chinese); "" when chosen
    rule: str


@dataclass
class ProposalView:
    proposal: prop.Proposal
    rows: list[ProposalRow]  # the round's entries: chosen first (ranking order), then the left-out
    outside: list[str]  # titles of the unit's recommendations outside this round (they count)
    status_text: str

    @property
    def chosen_ids(self) -> list[int]:
        return [r.entry_id for r in self.rows if r.chosen]


def _clean_forced(results: RoundResults, forced: dict | None, what: str) -> dict[int, str]:
    out = {}
    for key, reason in (forced or {}).items():
        try:
            entry_id = int(key)
        except (TypeError, ValueError):
            raise ServiceError(_("强制调整的作品编号无效：%(k)s。") % {"k": key}) from None
        if entry_id not in results.rows:
            raise ServiceError(_("强制调整的作品不在本轮评审中（编号 %(k)s）。") % {"k": entry_id})
        if not (reason or "").strip():
            raise ServiceError(_("请为%(what)s的作品《%(t)s》填写理由。") % {
                "what": what, "t": results.rows[entry_id].entry.course.title})
        out[entry_id] = reason.strip()
    return out


def build_proposal(actor, review_round: ReviewRound, *, force_in: dict | None = None, force_out: dict | None = None,
                   bonus="0", results: RoundResults | None = None) -> ProposalView:
    """The set to recommend from the round's ranking under the unit's quotas, node rule and share
    caps; recommendations of the unit outside this round count as fixed. ``force_in`` /
    ``force_out``: {entry id: reason}; ``bonus``: points per pick towards the campaign's target
    shares at this level (e.g. more science)."""
    require(actor, "review.change_results", review_round, _("只有本轮评审所属单位的管理员可以生成推荐方案。"))
    results = results or round_results(actor, review_round)
    force_in = _clean_forced(results, force_in, _("强制推荐"))
    force_out = _clean_forced(results, force_out, _("强制不推荐"))
    try:
        bonus_points = Decimal(str(bonus or "0"))
    except ArithmeticError:
        bonus_points = Decimal(-1)
    if not bonus_points.is_finite() or not 0 <= bonus_points <= 100:
        raise ServiceError(_("目标占比加分须为 0 到 100 之间的数字。"))
    r, campaign = review_round, review_round.campaign
    rows = results.rows
    open_states = (EntryState.PENDING, EntryState.RECOMMENDED)
    candidates_ = [c for c in prop.candidates_from_ranking(
        results.groups, nodes={i: re.entry.node_id for i, re in rows.items()},
        units={i: re.entry.course.school.name for i, re in rows.items()}) if rows[c.entry_id].entry.state in open_states]
    # The unit's recommendations at this level outside the round hold places: fixed, forced in.
    # So do the round's own recommended entries that have no submitted sheet yet: nothing to rank them by.
    considered = {c.entry_id for c in candidates_}
    outside = [selection_services._pick(e) for e in
               Entry.objects.filter(level=r.level, unit=r.unit, state=EntryState.RECOMMENDED)
               .exclude(pk__in=considered).select_related("course", "node__textbook").order_by("pk")]
    fixed = [prop.Candidate(p.entry_id, p.title, "0", p.category, p.subject, p.node_id) for p in outside]
    caps = selection_services._caps(campaign, r.level.kind, "recommendations")
    bonuses = [prop.TargetBonus(selection_rules.TargetShare(t["category"], tuple(t["subjects"]), t.get("min_percent"),
                                                            t.get("note", "")), bonus_points)
               for t in (campaign.target_shares or []) if t.get("level") == r.level.kind] if bonus_points else []
    limit_for = selection_services._limit_for(selection_services._quota_rows(campaign), r.unit)
    unknown = (set(force_in) | set(force_out)) - {c.entry_id for c in candidates_}
    if unknown:
        title = rows[min(unknown)].entry.course.title
        raise ServiceError(_("作品《%(t)s》尚未评分或已不在待处理/已推荐状态，不能强制调整。") % {"t": title})
    proposal = prop.propose(candidates_ + fixed, limit_for, campaign.node_rule, caps=caps, bonuses=bonuses,
                            force_in=set(force_in) | {c.entry_id for c in fixed}, force_out=set(force_out))
    state_labels = dict(EntryState.choices)
    chosen = [c for c in proposal.chosen if c.entry_id in considered]
    out_rows = []

    def row(entry_id, chosen_, message="", rule="", score=""):
        re = rows[entry_id]
        forced = "in" if entry_id in force_in else "out" if entry_id in force_out else ""
        out_rows.append(ProposalRow(entry_id, re.code, re.entry.course.title, re.entry.course.school.name,
                                    re.entry.node.textbook.subject, score, str(state_labels.get(re.entry.state, "")),
                                    chosen_, forced, force_in.get(entry_id) or force_out.get(entry_id, ""), message,
                                    rule))

    for c in chosen:
        row(c.entry_id, True, score=str(c.score))
    for lo in proposal.left_out:
        if lo.candidate.entry_id in rows:
            row(lo.candidate.entry_id, False, lo.message, lo.rule, str(lo.candidate.score))
    for entry_id in sorted(set(rows) - considered, key=lambda i: rows[i].code):
        if entry_id not in results.aggregate.entries and rows[entry_id].entry.state == EntryState.RECOMMENDED:
            row(entry_id, False, _("尚未评分；已推荐，保留并占用名额"), "kept")
        elif entry_id in results.aggregate.entries:
            row(entry_id, False, _("当前状态为“%(s)s”，不参与推荐") % {"s": state_labels.get(rows[entry_id].entry.state, "")},
                "state")
        else:
            row(entry_id, False, _("尚未评分（没有已提交的评分表）"), "unscored")
    total = sum((Decimal(prop.scaled(c.score)) for c in chosen), Decimal(0)) / prop.SCALE
    solver = _("求解状态 OPTIMAL：已证明为最优解") if proposal.optimal else \
        _("求解状态 %(s)s：在时限内找到可行方案，但未证明最优") % {"s": proposal.status}
    status = _("本轮推荐 %(n)d 门，总分 %(score)s，目标占比加分 %(bonus)s（%(solver)s）。") % {
        "n": len(chosen), "score": total, "bonus": proposal.bonus, "solver": solver}
    return ProposalView(proposal, out_rows, [p.title for p in outside if p.entry_id not in rows], status)


@dataclass(frozen=True)
class Applied:
    recommended: list[int]
    undone: list[int]


@transaction.atomic
def apply_proposal(actor, review_round: ReviewRound, *, force_in: dict | None = None, force_out: dict | None = None,
                   bonus="0", expected: list[int] | None = None, now: datetime | None = None) -> Applied:
    """Make the unit's recommendations among the round's entries exactly the proposed set, in one
    transaction: round entries recommended but left out are undone, the chosen pending ones are
    recommended in ranking order, each through selection.services.decide (its rules, locks, audit
    and signals). If any decision is refused, nothing is applied and every refusal is listed.
    ``expected``: the set the admin saw; if the proposal has changed since (new sheets), refuse."""
    view = build_proposal(actor, review_round, force_in=force_in, force_out=force_out, bonus=bonus)
    chosen = view.chosen_ids
    if expected is not None and sorted(i for i in expected if isinstance(i, int)) != sorted(chosen):
        raise ServiceError(_("评分或作品状态已变化，推荐方案与您看到的不同：请重新查看推荐方案后再应用。"))
    by_id = {row.entry_id: row for row in view.rows}
    states = dict(Entry.objects.filter(pk__in=list(by_id)).values_list("pk", "state"))
    undo = [row.entry_id for row in view.rows
            if not row.chosen and row.rule != "kept" and states[row.entry_id] == EntryState.RECOMMENDED]
    recommend = [i for i in chosen if states[i] == EntryState.PENDING]
    errors = []
    for action, ids in ((selection_rules.Action.UNDO, undo), (selection_rules.Action.RECOMMEND, recommend)):
        for entry_id in ids:
            row = by_id[entry_id]
            try:
                selection_services.decide(actor, entry_id, action, node_reason=row.reason if row.forced else "",
                                          now=now)
            except ServiceError as exc:
                errors.append({"entry_id": entry_id, "code": row.code, "title": row.title, "action": action,
                               "detail": exc.message})
    if errors:  # raising inside the transaction undoes every decision taken above
        first = errors[0]
        raise ServiceError(_("有 %(n)d 项决定被拒绝，推荐方案未应用（全部撤回）。第一项：《%(t)s》：%(d)s") % {
            "n": len(errors), "t": first["title"], "d": first["detail"]}, errors=errors)
    record(actor, "review.proposal.apply", review_round, after={
        "recommended": recommend, "undone": undo, "set": chosen, "bonus": str(bonus),
        "force_in": {str(k): v for k, v in (force_in or {}).items()},
        "force_out": {str(k): v for k, v in (force_out or {}).items()}}, unit=review_round.unit)
    return Applied(recommend, undo)


# --- lecture scores entered by the chair; the chair's adjudication --------------------------------
def stored_adjudications(rows: dict[int, RoundEntry], result: agg.Aggregate) -> list[agg.Adjudication]:
    """The chair's stored adjudications that still apply (the entry is flagged for disagreement and
    has no veto: new sheets or a new threshold may have settled it), for review.aggregation."""
    out = []
    for entry_id, re in rows.items():
        stored = getattr(re, "adjudication", None)  # select_related; a missing one raises AttributeError
        r = result.entries.get(entry_id)
        if stored is not None and r is not None and r.disagreement and not r.vetoes:
            out.append(agg.Adjudication(entry_id, float(stored.points), stored.reason))
    return out
