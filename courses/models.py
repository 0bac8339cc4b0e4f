"""The declared course (申报): its team, its 课时 and the files in each 课时's resource slots.

A course belongs to one campaign, one category of it and one open catalog node; the teacher who
starts it is its lead teacher (主讲教师), his school the course's school. Each 课时 (``Period``)
has the resource slots of the category (``campaigns.ResourceSlot``); a ``Resource`` puts one
stored file (``media.StoredFile``) into one slot of one 课时, with the findings of the automatic
checks against the requirements that were in force (``evaluated_spec`` is their fingerprint, so
a changed spec is noticed and the checks run again).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

from campaigns.enums import Category, ResourceKind


class CourseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交学校")
    RETURNED = "returned", _("已退回修改")
    WITHDRAWN = "withdrawn", _("已撤回")


class CheckStatus(models.TextChoices):
    PENDING = "pending", _("检测中")
    PASS = "pass", _("通过")
    WARN = "warn", _("有提醒")
    FAIL = "fail", _("不合格")


class Compliance(models.TextChoices):
    """The automatic check result of a course's files as a whole: the worst status among them
    (``none`` without files). Kept on ``Course.compliance`` so that lists filter and sort on a
    column instead of computing it per row (see ``courses.compliance``)."""

    FAIL = "fail", _("有不合格文件")
    PENDING = "pending", _("检测中")
    WARN = "warn", _("有提醒")
    PASS = "pass", _("全部通过")
    NONE = "none", _("未上传文件")


def own_course_ids(user) -> RawSQL:
    """The ids of the courses ``user`` leads or is in the team of, as one subquery for ``pk__in``:
    ``id IN (SELECT id … WHERE lead_teacher_id = u UNION ALL SELECT course_id … WHERE user_id = u)``,
    two index ranges the database reads before it looks the few courses up by key. Not
    ``lead_teacher_id = u OR id IN (SELECT …)``: no database uses an index for that OR (PostgreSQL
    200 k: a 38 ms sequential scan). Written out: Django compiling ``QuerySet.union`` inside the
    list's query cost more CPU than the separate query of team ids it replaces."""
    course, member = Course._meta, CourseMember._meta
    return RawSQL(
        f'SELECT "{course.pk.column}" FROM "{course.db_table}" WHERE "{course.get_field("lead_teacher").column}" = %s '
        f'UNION ALL SELECT "{member.get_field("course").column}" FROM "{member.db_table}" '
        f'WHERE "{member.get_field("user").column}" = %s', (user.pk, user.pk))


class CourseQuerySet(models.QuerySet):
    def visible_to(self, user) -> CourseQuerySet:
        """Every list, detail and endpoint starts here: the lead teacher's and team members'
        own courses, and the courses of schools within a unit the user administers.

        No join and no DISTINCT. Someone who administers no unit (a teacher): ``own_course_ids``,
        one subquery, no query of its own. Otherwise the team memberships are read first (a
        teacher has a handful), the schools are an ``IN (subquery)`` on the units' indexed paths,
        so the database can walk an index in the list's order and stop at the page (issue 12)."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser:
            return self.all()
        from orgs.models import Unit

        units = user.admin_units()
        if not units:
            return self.filter(pk__in=own_course_ids(user))
        member_of = list(CourseMember.objects.filter(user=user).values_list("course_id", flat=True))
        q = Q(lead_teacher=user)
        if member_of:
            q |= Q(pk__in=member_of)
        within = Q()
        for unit in units:
            within |= Q(path__startswith=unit.path)
        q |= Q(school_id__in=Unit.objects.filter(within).values("pk"))
        return self.filter(q)


class Course(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="courses",
                                 verbose_name=_("遴选活动"))
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    node = models.ForeignKey("catalog.CatalogNode", on_delete=models.PROTECT, related_name="courses",
                             verbose_name=_("目录节点"))
    title = models.CharField(_("课程名称"), max_length=200)
    lead_teacher = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_courses",
                                     verbose_name=_("主讲教师"))
    school = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="courses", verbose_name=_("学校"))
    periods_count = models.PositiveSmallIntegerField(_("课时数"), default=1)
    status = models.CharField(_("状态"), max_length=10, choices=CourseStatus.choices, default=CourseStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    # Set by the school's screening (issue 4: recommend / decline / return). While it is empty the
    # teacher may withdraw a submitted course.
    school_acted_at = models.DateTimeField(_("学校处理时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    # The worst check status among the course's files, kept current by courses.compliance.
    compliance = models.CharField(_("文件检测"), max_length=8, choices=Compliance.choices, default=Compliance.NONE)
    # The ids of the units at depth 1 and 2 of the school's path (its city and county, or the school
    # itself when a province or city owns it), kept by database triggers (courses/areas.py): a
    # city's or county's courses are one range of the indexes below, in the list's order.
    area1 = models.BigIntegerField(null=True, editable=False)
    area2 = models.BigIntegerField(null=True, editable=False)

    objects = CourseQuerySet.as_manager()

    class Meta:
        verbose_name = _("申报课程")
        verbose_name_plural = _("申报课程")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "school", "node"]),
            models.Index(fields=["campaign", "status"]),
            models.Index(fields=["campaign", "compliance"]),
            # The lists' orderings (courses: newest change first), with and without a campaign.
            models.Index(fields=["-updated_at", "-id"], name="courses_course_updated"),
            models.Index(fields=["campaign", "-updated_at", "-id"], name="courses_course_cmp_updated"),
            models.Index(fields=["area1", "-updated_at", "-id"], name="courses_course_area1_updated"),
            models.Index(fields=["area2", "-updated_at", "-id"], name="courses_course_area2_updated"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(periods_count__gte=1), name="courses_course_periods_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def stage(self) -> str:
        return self.node.textbook.stage


class CourseMember(models.Model):
    """A team member (团队成员), not counting the lead teacher. May be in another school."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="course_memberships",
                             verbose_name=_("成员"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("团队成员")
        verbose_name_plural = _("团队成员")
        ordering = ["course", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="courses_member_unique"),
        ]

    def __str__(self) -> str:
        return str(self.user)


class Period(models.Model):
    """One 课时 of a course, with its own resource package."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="periods")
    number = models.PositiveSmallIntegerField(_("课时"))
    title = models.CharField(_("课时标题"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("课时")
        verbose_name_plural = _("课时")
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="courses_period_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="courses_period_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.course} · 第{self.number}课时"


class Resource(models.Model):
    """A file in one slot of one 课时, with its check findings."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="resources")
    slot_kind = models.CharField(_("资源类型"), max_length=20, choices=ResourceKind.choices)
    file = models.ForeignKey("media.StoredFile", on_delete=models.PROTECT, related_name="resources",
                             verbose_name=_("文件"))
    # The file this one replaced (kept, so that a replacement that fails loses nothing).
    previous_file = models.ForeignKey("media.StoredFile", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+")
    findings = models.JSONField(_("检测结果"), default=list, blank=True)
    status = models.CharField(_("检测结论"), max_length=10, choices=CheckStatus.choices, default=CheckStatus.PENDING)
    evaluated_spec = models.CharField(max_length=64, blank=True)
    attached_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    attached_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("资源文件")
        verbose_name_plural = _("资源文件")
        ordering = ["period", "id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "slot_kind"], name="courses_resource_unique_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.get_slot_kind_display()}"


class SearchGram(models.Model):
    """One two-character piece (bigram) of a searched text: a course's title (kind ``c``), a user's
    name (``u``) or a unit's name (``s``), case-folded as ``icontains`` folds it (UPPER on
    PostgreSQL, ASCII LOWER on SQLite). Kept by database triggers (courses/search.py), so every
    insert, update and delete of those columns, bulk or not, keeps it exact; read by
    ``courses.search.matching_courses``. Not edited by the application."""

    pk = models.CompositePrimaryKey("kind", "gram", "obj_id")
    kind = models.CharField(max_length=1)
    gram = models.CharField(max_length=2)
    obj_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("检索二元组")
        verbose_name_plural = _("检索二元组")

    def __str__(self):
        return f"{self.kind}:{self.gram}:{self.obj_id}"
