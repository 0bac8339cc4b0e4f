"""Expert review as data: the rubric a campaign uses per category, the experts (a profile on top of
the expert role), their declared conflicts, review rounds with their entries under neutral codes,
the panel, the assignments and the score sheets.

A ``ReviewRound`` belongs to one unit at one level (the unit that holds the entries: a county at
the county level, a city at the city level). Its entries are ``selection.Entry`` rows held there;
``RoundEntry`` gives each one the neutral code experts see instead of teacher, school and county.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.enums import Category, Stage
from review.aggregation import Method as AggregationMethod


class Phase(models.TextChoices):
    DESIGN = "design", _("课例设计评审（仅看文档）")
    VIDEO = "video", _("视频评审")
    LECTURE = "lecture", _("试讲（评审组组长录入成绩）")


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("筹备中")
    PUBLISHED = "published", _("评审中")
    CLOSED = "closed", _("已结束")


class AssignmentState(models.TextChoices):
    PROPOSED = "proposed", _("待发布")  # proposed by the solver or the admin, not yet visible to the expert
    ASSIGNED = "assigned", _("待评审")
    STARTED = "started", _("评分中")
    SUBMITTED = "submitted", _("已提交")


# --- rubric ------------------------------------------------------------------------------------
class Rubric(models.Model):
    """The evaluation indicators (评价指标) of one category of a campaign, editable by its owner."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="rubrics")
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    title = models.CharField(_("名称"), max_length=100)
    total_points = models.DecimalField(_("满分"), max_digits=6, decimal_places=1, default=100)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("评价指标")
        verbose_name_plural = _("评价指标")
        ordering = ["campaign", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "category"], name="review_rubric_unique_category")]

    def __str__(self) -> str:
        return self.title


class RubricDimension(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="dimensions")
    name = models.CharField(_("一级指标"), max_length=50)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("一级指标")
        verbose_name_plural = _("一级指标")
        ordering = ["rubric", "order", "id"]

    def __str__(self) -> str:
        return self.name


class RubricItem(models.Model):
    dimension = models.ForeignKey(RubricDimension, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("评价要点"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    max_points = models.DecimalField(_("分值"), max_digits=5, decimal_places=1)
    weight = models.DecimalField(_("权重"), max_digits=4, decimal_places=2, default=1)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("评价要点")
        verbose_name_plural = _("评价要点")
        ordering = ["dimension", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_points__gt=0), name="review_item_points_positive"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="review_item_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class VetoItem(models.Model):
    """A threshold (一票否决): ticked with a written reason, it sets the entry's score to 0."""

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="vetoes")
    name = models.CharField(_("否决项"), max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("一票否决项")
        verbose_name_plural = _("一票否决项")
        ordering = ["rubric", "order", "id"]

    def __str__(self) -> str:
        return self.name


# --- experts -----------------------------------------------------------------------------------
class ExpertProfile(models.Model):
    """What matching needs to know of an expert. His expert memberships (orgs.Role.EXPERT) say
    which units' pools he is in; ``work_unit`` is where he works (for conflicts), possibly
    another unit, or outside the tree (``work_unit_name`` only)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_profile")
    work_unit = models.ForeignKey("orgs.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("工作单位"))
    work_unit_name = models.CharField(_("工作单位名称"), max_length=100, blank=True)
    subjects = models.JSONField(_("学科"), default=list, blank=True)
    stages = models.JSONField(_("学段"), default=list, blank=True)
    max_load = models.PositiveSmallIntegerField(_("最大评审量"), default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("专家信息")
        verbose_name_plural = _("专家信息")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def work_unit_label(self) -> str:
        return self.work_unit.name if self.work_unit_id else self.work_unit_name


class Conflict(models.Model):
    """A declared personal conflict of interest (回避): the expert never reviews this course."""

    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_conflicts")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="review_conflicts")
    reason = models.CharField(_("回避理由"), max_length=200)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                    related_name="+")
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("回避声明")
        verbose_name_plural = _("回避声明")
        constraints = [models.UniqueConstraint(fields=["expert", "course"], name="review_conflict_unique")]

    def __str__(self) -> str:
        return f"{self.expert} ↔ {self.course}"


# --- rounds ------------------------------------------------------------------------------------
class RoundQuerySet(models.QuerySet):
    def visible_to(self, user) -> RoundQuerySet:
        """Rounds of the units the user administers (his own and those below)."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser:
            return self.all()
        units = user.admin_units()
        if not units:
            return self.none()
        q = Q()
        for unit in units:
            q |= Q(unit__path__startswith=unit.path)
        return self.filter(q)


class ReviewRound(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="review_rounds")
    level = models.ForeignKey("campaigns.Level", on_delete=models.PROTECT, related_name="review_rounds")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="review_rounds")
    title = models.CharField(_("名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    stage = models.CharField(_("学段"), max_length=10, choices=Stage.choices, blank=True)
    subject = models.CharField(_("学科"), max_length=30, blank=True)
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("评价指标"))
    phase = models.CharField(_("评审环节"), max_length=10, choices=Phase.choices, default=Phase.VIDEO)
    reviewers_per_entry = models.PositiveSmallIntegerField(_("每件作品评审专家数"), default=3)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    lecture_date = models.DateField(_("试讲日期"), null=True, blank=True)
    lecture_place = models.CharField(_("试讲地点"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    # Results (review.aggregation.Settings): the method, k for z-scores, the disagreement threshold.
    method = models.CharField(_("汇总方法"), max_length=10, choices=AggregationMethod.choices,
                              default=AggregationMethod.MEAN)
    min_scored = models.PositiveSmallIntegerField(_("换算标准分所需的最少评分数（k）"), default=5)
    disagreement_threshold = models.DecimalField(_("评分分歧阈值（分）"), max_digits=5, decimal_places=1, default=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审轮次")
        verbose_name_plural = _("评审轮次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(reviewers_per_entry__gte=1), name="review_round_n_positive"),
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="review_round_window"),
        ]

    def __str__(self) -> str:
        return self.title


class RoundEntry(models.Model):
    """An entry in a round, under the neutral code experts see (e.g. R12-007)."""

    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="round_entries")
    entry = models.ForeignKey("selection.Entry", on_delete=models.CASCADE, related_name="round_entries")
    code = models.CharField(_("作品编号"), max_length=20)
    # A LECTURE round: the entry's own time slot (and place, when not the round's), set by admin or chair.
    lecture_at = models.DateTimeField(_("试讲时间"), null=True, blank=True)
    lecture_place = models.CharField(_("试讲地点（本作品）"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("评审作品")
        verbose_name_plural = _("评审作品")
        ordering = ["round", "code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "entry"], name="review_roundentry_unique"),
            models.UniqueConstraint(fields=["round", "code"], name="review_roundentry_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class PanelMember(models.Model):
    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="panel")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_panels")
    is_chair = models.BooleanField(_("组长"), default=False)

    class Meta:
        verbose_name = _("评审组成员")
        verbose_name_plural = _("评审组成员")
        ordering = ["round", "-is_chair", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "expert"], name="review_panel_unique"),
            models.UniqueConstraint(fields=["round"], condition=Q(is_chair=True), name="review_panel_one_chair"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.expert}"


class AssignmentQuerySet(models.QuerySet):
    def of_expert(self, user) -> AssignmentQuerySet:
        """The expert's own assignments, never those still proposed (not yet published)."""
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(expert=user).exclude(state=AssignmentState.PROPOSED)


class Assignment(models.Model):
    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="assignments")
    entry = models.ForeignKey(RoundEntry, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments")
    state = models.CharField(_("状态"), max_length=10, choices=AssignmentState.choices,
                             default=AssignmentState.ASSIGNED)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("评审分配")
        verbose_name_plural = _("评审分配")
        ordering = ["round", "entry__code", "id"]
        constraints = [models.UniqueConstraint(fields=["entry", "expert"], name="review_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.entry.code} · {self.expert}"


class ScoreSheet(models.Model):
    """One expert's scores for one entry: item points, or a veto with its written reason."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="sheet")
    veto = models.ForeignKey(VetoItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("一票否决"))
    veto_reason = models.TextField(_("否决理由"), blank=True)
    comment = models.TextField(_("评语"), blank=True)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=1, null=True, blank=True)
    saved_at = models.DateTimeField(_("保存时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("重新开放时间"), null=True, blank=True)
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    reopen_reason = models.TextField(_("重新开放理由"), blank=True)
    # Set when the panel chair entered the sheet for the expert (试讲: scores given in person).
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("录入人"))

    class Meta:
        verbose_name = _("评分表")
        verbose_name_plural = _("评分表")
        constraints = [
            # A veto needs a written reason.
            models.CheckConstraint(condition=Q(veto__isnull=True) | ~Q(veto_reason=""), name="review_sheet_veto_reason"),
        ]

    def __str__(self) -> str:
        return str(self.assignment)


class Score(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(RubricItem, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1)

    class Meta:
        verbose_name = _("得分")
        verbose_name_plural = _("得分")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "item"], name="review_score_unique"),
            models.CheckConstraint(condition=Q(points__gte=0), name="review_score_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.points}"


class ChangeKind(models.TextChoices):
    AUTO = "auto", _("自动分配")
    ADD = "add", _("添加")
    REMOVE = "remove", _("移除")
    MOVE = "move", _("调整")


class AssignmentChange(models.Model):
    """One change of a round's assignments (automatic or manual), kept so that the last one can be
    undone: ``added`` and ``removed`` hold the [expert_id, round_entry_id, state] of each pair."""

    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="assignment_changes")
    kind = models.CharField(_("操作"), max_length=10, choices=ChangeKind.choices)
    added = models.JSONField(default=list)
    removed = models.JSONField(default=list)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    class Meta:
        verbose_name = _("分配变更")
        verbose_name_plural = _("分配变更")
        ordering = ["round", "-id"]

    def __str__(self) -> str:
        return f"{self.round} · {self.get_kind_display()}"


# --- lecture scores entered by the chair; the chair's adjudication --------------------------------
class Adjudication(models.Model):
    """The panel chair's decision on an entry flagged for disagreement (spread above the round's
    threshold, no veto): his score, with a written reason, replaces the round's statistic
    (review.aggregation.Adjudication). One per round entry."""

    round_entry = models.OneToOneField(RoundEntry, on_delete=models.CASCADE, related_name="adjudication")
    points = models.DecimalField(_("裁定分"), max_digits=6, decimal_places=1)
    reason = models.TextField(_("裁定理由"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+",
                           verbose_name=_("裁定人"))
    at = models.DateTimeField(_("裁定时间"), auto_now=True)

    class Meta:
        verbose_name = _("组长裁定")
        verbose_name_plural = _("组长裁定")
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="review_adjudication_points_non_negative"),
            models.CheckConstraint(condition=~Q(reason=""), name="review_adjudication_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.round_entry} · {self.points}"


# --- publicity (公示) and objections -------------------------------------------------------------------
class PublicityState(models.TextChoices):
    OPEN = "open", _("公示中")
    CLOSED = "closed", _("公示期已结束")
    FINAL = "final", _("结果已确定")


class Publicity(models.Model):
    """A unit's results at one level (its recommended and awarded entries), published for the
    campaign's number of days before they are final. ``slug``: the unguessable public address."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="publicities")
    level = models.ForeignKey("campaigns.Level", on_delete=models.PROTECT, related_name="publicities")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="publicities")
    slug = models.CharField(max_length=32, unique=True, editable=False)
    title = models.CharField(_("公示标题"), max_length=200)
    note = models.TextField(_("公示说明"), blank=True)
    starts_at = models.DateTimeField(_("公示开始"))
    ends_at = models.DateTimeField(_("公示结束"))
    state = models.CharField(_("状态"), max_length=8, choices=PublicityState.choices, default=PublicityState.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finalized_at = models.DateTimeField(_("确定时间"), null=True, blank=True)
    finalized_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-starts_at", "-id"]
        constraints = [
            # One publicity not yet final per unit and level.
            models.UniqueConstraint(fields=["level", "unit"], condition=~Q(state="final"),
                                    name="review_publicity_one_pending"),
        ]

    def __str__(self) -> str:
        return self.title


class PublicityItem(models.Model):
    """One published result, as it was shown (a snapshot: no phone numbers, no scores)."""

    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="items")
    entry = models.ForeignKey("selection.Entry", on_delete=models.PROTECT, related_name="publicity_items")
    order = models.PositiveIntegerField(default=0)
    course_title = models.CharField(_("课程名称"), max_length=200)
    school_name = models.CharField(_("学校"), max_length=200)
    teachers = models.CharField(_("主讲教师及团队"), max_length=500)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    subject = models.CharField(_("学段学科"), max_length=100)
    node_label = models.CharField(_("目录节点"), max_length=500)
    recommended = models.BooleanField(_("推荐"), default=False)
    awarded = models.BooleanField(_("本级荣誉"), default=False)
    withdrawn = models.BooleanField(_("已撤销"), default=False)
    withdrawn_note = models.TextField(_("撤销说明"), blank=True)

    class Meta:
        verbose_name = _("公示条目")
        verbose_name_plural = _("公示条目")
        ordering = ["publicity", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["publicity", "entry"], name="review_publicityitem_once")]

    def __str__(self) -> str:
        return self.course_title


class ObjectionState(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("维持原结果")


def objection_upload_to(instance, filename):
    import secrets

    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"objections/{secrets.token_hex(16)}.{ext}"


class Objection(models.Model):
    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="objections")
    item = models.ForeignKey(PublicityItem, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="objections", verbose_name=_("涉及课程"))
    name = models.CharField(_("姓名"), max_length=50)
    contact = models.CharField(_("联系方式"), max_length=100)
    content = models.TextField(_("异议内容"))
    attachment = models.FileField(_("附件"), upload_to=objection_upload_to, blank=True, max_length=200)
    attachment_name = models.CharField(_("附件原名"), max_length=200, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    ip_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    state = models.CharField(_("状态"), max_length=10, choices=ObjectionState.choices, default=ObjectionState.OPEN)
    outcome = models.TextField(_("处理结果"), blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["publicity", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.publicity} · {self.name}"
