"""The public showcase (精品课展示): which courses, which of their files, and the queries the
gallery, the course page, the API and the node picker share.

Everything public starts from ``published()``; a file is public only through ``public_resource``.
No user data other than real names leaves here (never a username, mobile, e-mail, score, review
or decision reason), so the templates and the API cannot show what they never receive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from campaigns.enums import LEVEL_LABELS, LEVEL_ORDER, VIDEO_KINDS, CampaignStatus, Category, ResourceKind, Stage
from campaigns.models import Campaign
from courses.models import Course, CourseMember, CourseStatus, Period, Resource
from jingpinke.inputs import parse_id
from jingpinke.paging import InvalidCursor, paginate
from selection.models import Entry
from showcase import rules

PAGE_SIZE = 24


def _awarded_entries(**extra) -> QuerySet[Entry]:
    return Entry.objects.filter(awarded=True, **extra).exclude(level__award_name="")


def published() -> QuerySet[Course]:
    """Courses of ended campaigns awarded at some level: the only courses the showcase knows."""
    return (Course.objects.filter(campaign__status=CampaignStatus.CLOSED)
            .exclude(status=CourseStatus.WITHDRAWN)
            .filter(Exists(_awarded_entries(course=OuterRef("pk")))))


def _with_cards(qs: QuerySet[Course]) -> QuerySet[Course]:
    """What a card shows, in a fixed number of queries whatever the page's size."""
    return (qs.select_related("campaign", "school", "lead_teacher", "node__textbook")
            .prefetch_related(
                Prefetch("entries", queryset=_awarded_entries().select_related("level"), to_attr="awarded_entries"),
                Prefetch("periods", queryset=Period.objects.filter(number=1).prefetch_related(
                    Prefetch("resources", queryset=Resource.objects.filter(slot_kind__in=VIDEO_KINDS)
                             .select_related("file"), to_attr="videos")), to_attr="first_periods")))


def award_of(course: Course) -> rules.Award | None:
    return rules.highest_award([rules.Award(e.level.kind, e.level.award_name) for e in course.awarded_entries])


def _first_video(course: Course) -> Resource | None:
    if not rules.video_is_public(course.campaign.public_resource_kinds):
        return None
    for period in course.first_periods:
        for resource in period.videos:
            return resource
    return None


@dataclass
class Card:
    id: int
    title: str
    year: int
    campaign: str
    category: str
    stage: str
    subject: str
    grade: str
    version: str
    node_id: int
    node_title: str
    node_path: str
    textbook: str
    school: str
    teacher: str
    award: str
    award_level: str
    poster: int | None  # the resource id of the public video whose poster frame the card shows


def card(course: Course) -> Card:
    award = award_of(course)
    video = _first_video(course)
    book = course.node.textbook
    return Card(id=course.pk, title=course.title, year=course.campaign.year, campaign=course.campaign.title,
                category=course.get_category_display(), stage=book.get_stage_display(), subject=book.subject,
                grade=book.grade, version=book.version, node_id=course.node_id, node_title=course.node.title,
                node_path=course.node.label_path or course.node.title, textbook=book.label,
                school=course.school.name, teacher=course.lead_teacher.real_name,
                award=award.name if award else "", award_level=award.level if award else "",
                poster=video.pk if video is not None and video.file.poster_key else None)


# --- the gallery -----------------------------------------------------------------------------------
def parse_filter(params) -> rules.Filter:
    return rules.parse_filter(params, categories=Category.values, stages=Stage.values)


def _awarded_at(kind: str) -> Exists:
    return Exists(_awarded_entries(course=OuterRef("pk"), level__kind=kind))


def filtered(f: rules.Filter) -> QuerySet[Course]:
    qs = published()
    if f.year:
        qs = qs.filter(campaign__year=f.year)
    if f.level:  # its highest award is this level's
        qs = qs.filter(_awarded_at(f.level))
        for above in rules.levels_above(f.level):
            qs = qs.exclude(_awarded_at(above))
    if f.category:
        qs = qs.filter(category=f.category)
    for name in ("stage", "subject", "grade", "version"):
        if getattr(f, name):
            qs = qs.filter(**{f"node__textbook__{name}": getattr(f, name)})
    if f.node:
        qs = qs.filter(node_id=f.node)
    if f.q:
        member = CourseMember.objects.filter(course=OuterRef("pk"), user__real_name__icontains=f.q)
        qs = qs.filter(Q(title__icontains=f.q) | Q(lead_teacher__real_name__icontains=f.q)
                       | Q(school__name__icontains=f.q) | Q(node__title__icontains=f.q) | Exists(member))
    return qs.order_by("-campaign__year", "-pk")


def facets() -> dict:
    """Options of the filter selects: the values the published courses have (two queries)."""
    rows = list(published().values_list("campaign__year", "category", "node__textbook__stage",
                                        "node__textbook__subject", "node__textbook__grade",
                                        "node__textbook__version").distinct())
    options = rules.facet_options(rows)
    cat_labels, stage_labels = dict(Category.choices), dict(Stage.choices)
    options["categories"] = [(c, str(cat_labels.get(c, c))) for c in options["categories"]]
    options["stages"] = [(s, str(stage_labels.get(s, s))) for s in Stage.values if s in set(options["stages"])]
    awards = (_awarded_entries(course__in=published()).values_list("level__kind", "level__award_name")
              .distinct())
    names: dict[str, set[str]] = {}
    for kind, name in awards:
        names.setdefault(kind, set()).add(name)
    options["levels"] = [(k, "/".join(sorted(names[k])) or str(LEVEL_LABELS[k])) for k in LEVEL_ORDER if k in names]
    return options


@dataclass
class Gallery:
    filter: rules.Filter
    page: object
    cards: list[Card]
    facets: dict
    node_title: str = ""
    notice: str = ""  # why the first page is shown instead of the cursor's


def gallery(params, *, page_size: int = PAGE_SIZE, strict: bool = False) -> Gallery:
    """One page of the published courses (``?page=`` or ``?cursor=``). A bad cursor: ``InvalidCursor``
    when ``strict`` (the API), else the first page with a ``notice`` (the page)."""
    f = parse_filter(params)
    notice = ""
    try:
        page = paginate(filtered(f), page_size, params.get("page"), params.get("cursor") or None)
    except InvalidCursor as exc:
        if strict:
            raise
        notice, page = exc.message, paginate(filtered(f), page_size, 1)
    courses = list(_with_cards(Course.objects.filter(pk__in=[c.pk for c in page.object_list]))
                   .order_by("-campaign__year", "-pk"))
    node_title = ""
    if f.node:
        node_title = next((c.node.label_path or c.node.title for c in courses if c.node_id == f.node), "")
        if not node_title:  # no published course on it: still say which lesson was asked for
            from catalog.models import CatalogNode

            row = CatalogNode.objects.filter(pk=f.node).values_list("label_path", "title").first()
            node_title = (row[0] or row[1]) if row else ""
    return Gallery(filter=f, page=page, cards=[card(c) for c in courses], facets=facets(), node_title=node_title,
                   notice=notice)


# --- one course ------------------------------------------------------------------------------------
@dataclass
class PublicFile:
    id: int
    period: int
    kind: str
    label: str
    name: str
    size: int
    is_video: bool
    has_poster: bool


@dataclass
class CoursePage:
    card: Card
    team: list[str]
    periods: list[tuple[int, str, list[PublicFile]]] = field(default_factory=list)
    video: PublicFile | None = None


_EXT = {"mp4": "mp4", "mov": "mov", "pdf": "pdf", "docx": "docx", "pptx": "pptx", "xlsx": "xlsx", "doc": "doc"}


def public_name(course: Course, period: int, kind: str, file_kind: str) -> str:
    """A file's public name: the course, its 课时 and the item (never the uploaded name)."""
    label = str(ResourceKind(kind).label) if kind in ResourceKind.values else kind
    ext = _EXT.get(file_kind, "bin")
    stem = f"{course.title}-{label}" if course.periods_count == 1 else f"{course.title}-第{period}课时-{label}"
    return f"{stem}.{ext}"


def get_published(pk) -> Course:
    pk = parse_id(pk)
    course = _with_cards(published()).filter(pk=pk).first() if pk is not None else None
    if course is None:
        raise Http404(_("没有这门精品课，或它尚未公开。"))
    return course


def course_page(pk) -> CoursePage:
    course = get_published(pk)
    public_kinds = set(course.campaign.public_resource_kinds or ())
    team = [m.user.real_name for m in course.members.select_related("user") if m.user.real_name]
    resources = (Resource.objects.filter(period__course=course, slot_kind__in=public_kinds)
                 .select_related("file", "period").order_by("period__number", "id"))
    by_period: dict[int, tuple[str, list[PublicFile]]] = {}
    for p in course.periods.all():
        by_period[p.number] = (p.title, [])
    video = None
    for r in resources:
        pf = PublicFile(id=r.pk, period=r.period.number, kind=r.slot_kind, label=r.get_slot_kind_display(),
                        name=public_name(course, r.period.number, r.slot_kind, r.file.kind), size=r.file.size,
                        is_video=r.slot_kind in VIDEO_KINDS, has_poster=bool(r.file.poster_key))
        by_period.setdefault(r.period.number, ("", []))[1].append(pf)
        if pf.is_video and video is None:
            video = pf
    periods = [(n, title, files) for n, (title, files) in sorted(by_period.items())]
    return CoursePage(card=card(course), team=[course.lead_teacher.real_name, *team] if course.lead_teacher.real_name
                      else team, periods=periods, video=video)


def public_resource(course_id, resource_id) -> tuple[Course, Resource]:
    """A file of a published course whose kind its campaign makes public; anything else: 404."""
    course_id, resource_id = parse_id(course_id), parse_id(resource_id)
    course = published().select_related("campaign").filter(pk=course_id).first() if course_id else None
    if course is None or resource_id is None:
        raise Http404(_("没有这个文件，或它不公开。"))
    resource = (Resource.objects.filter(pk=resource_id, period__course=course,
                                        slot_kind__in=list(course.campaign.public_resource_kinds or ()))
                .select_related("file", "period").first())
    if resource is None:
        raise Http404(_("没有这个文件，或它不公开。"))
    return course, resource


# --- freshness (conditional GET) --------------------------------------------------------------------
def version() -> str:
    """A fingerprint of everything the showcase shows (two queries): it changes when a campaign ends
    or reopens or changes its public kinds (Campaign.updated_at), a course of it changes, or an award
    of it is given or taken back."""
    agg = Campaign.objects.filter(status=CampaignStatus.CLOSED).aggregate(
        c=Max("updated_at"), k=Max("courses__updated_at"), n=Count("courses", distinct=True))
    awards = _awarded_entries(course__campaign__status=CampaignStatus.CLOSED).aggregate(n=Count("id"), m=Max("id"))
    facts = f"{agg['c']}|{agg['k']}|{agg['n']}|{awards['n']}|{awards['m']}"
    return hashlib.sha256(facts.encode()).hexdigest()[:20]


def last_modified():
    return Campaign.objects.filter(status=CampaignStatus.CLOSED).aggregate(m=Max("updated_at"))["m"]


# --- the node picker: a selected course from an earlier year ----------------------------------------
@dataclass(frozen=True)
class Earlier:
    id: int
    title: str
    year: int
    award: str


def earlier_selected(node_ids, *, before_year: int, limit: int = 3) -> dict[int, list[Earlier]]:
    """Published courses on these catalog nodes from campaigns before ``before_year`` (newest first,
    at most ``limit`` per node), in two queries whatever the number of nodes."""
    node_ids = [n for n in node_ids if n]
    if not node_ids:
        return {}
    courses = (_with_awards(published().filter(node_id__in=node_ids, campaign__year__lt=before_year))
               .order_by("-campaign__year", "-pk"))
    found: dict[int, list[Earlier]] = {}
    for c in courses:
        items = found.setdefault(c.node_id, [])
        if len(items) < limit:
            award = award_of(c)
            items.append(Earlier(c.pk, c.title, c.campaign.year, award.name if award else ""))
    return found


def _with_awards(qs: QuerySet[Course]) -> QuerySet[Course]:
    return qs.select_related("campaign").prefetch_related(
        Prefetch("entries", queryset=_awarded_entries().select_related("level"), to_attr="awarded_entries"))


# --- serving a public file: its metadata-free copy ------------------------------------------------
def served_copy(resource: Resource):
    """The file's metadata-free copy (``media.clean``: no author, company, GPS or local paths in the
    file's properties), the bytes the public gets. Made once by the task ``media.tasks.make_clean_copy``;
    the first request queues it (at most once every few minutes) and answers None until it exists.
    A copy without ``storage_key`` records why the file could not be cleaned: it is never served."""
    from django.core.cache import cache

    from media.models import CleanCopy
    from media.tasks import make_clean_copy

    copy = CleanCopy.objects.filter(source_id=resource.file_id).first()
    if copy is None and cache.add(f"showcase:clean:{resource.file_id}", 1, 300):
        make_clean_copy.enqueue(str(resource.file_id))
        copy = CleanCopy.objects.filter(source_id=resource.file_id).first()  # an immediate backend made it
    return copy


def prepare_copies(campaign: Campaign) -> int:
    """Queue the copies of every public file of the campaign's published courses (when it ends, and
    by the demo), so that the first visitor does not wait. Returns how many were queued."""
    from media.models import CleanCopy
    from media.tasks import make_clean_copy

    kinds = list(campaign.public_resource_kinds or ())
    ids = set(Resource.objects.filter(period__course__in=published().filter(campaign=campaign), slot_kind__in=kinds)
              .values_list("file_id", flat=True))
    ids -= set(CleanCopy.objects.filter(source_id__in=ids).values_list("source_id", flat=True))
    for file_id in ids:
        make_clean_copy.enqueue(str(file_id))
    return len(ids)
