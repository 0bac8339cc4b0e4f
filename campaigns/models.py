"""A selection campaign (年度遴选活动) as data: everything a notice says.

Numbers (quotas, deadlines, durations, caps) are rows here, never code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.enums import (  # noqa: F401  (re-exported: other apps import them from here)
    VIDEO_KINDS,
    CampaignStatus,
    Category,
    NodeRule,
    ResourceKind,
    ShareAppliesTo,
    Stage,
    default_public_kinds,
)
from media.rules import CHECK_RULES, SEVERITY_LABELS, severities_with_defaults
from orgs.models import Unit, UnitKind


class Campaign(models.Model):
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("活动名称"), max_length=200)
    owner = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("主办单位"),
        help_text=_("发布通知并管理本活动的单位（市或省）。"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    description = models.TextField(_("说明"), blank=True)
    node_rule = models.CharField(
        _("同一目录节点规则"), max_length=10, choices=NodeRule.choices, default=NodeRule.BLOCK
    )
    new_textbook_grades = models.JSONField(
        _("须使用新教材的起始年级"), default=list, blank=True,
        help_text=_("例如 [\"一年级\", \"七年级\"]：这些年级只能开放新教材的目录节点。"),
    )
    # [{"level": "city", "category": "special", "subjects": ["语文", "数学", "生活适应"],
    #   "max_percent": 80, "applies_to": "awards"}]
    share_caps = models.JSONField(_("学科占比上限"), default=list, blank=True)
    # [{"level": "city", "category": "subject", "subjects": ["物理", "化学", "生物", "科学"],
    #   "min_percent": 30, "note": "适当加大科学类精品课推荐数量"}]
    target_shares = models.JSONField(_("学科占比目标（仅提示）"), default=list, blank=True)
    # The resource kinds the public showcase may offer once the campaign has ended (showcase app).
    public_resource_kinds = models.JSONField(
        _("精品课展示公开的资源"), default=default_public_kinds, blank=True,
        help_text=_("活动结束后，获奖课程的这些资源在“精品课展示”中公开；其余资源（默认：作业练习）不公开。"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("遴选活动")
        verbose_name_plural = _("遴选活动")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "year", "title"], name="campaigns_campaign_unique_title"),
        ]

    def __str__(self) -> str:
        return self.title


class CampaignCategory(models.Model):
    """A category the campaign runs, with its package rules."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="categories")
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    max_periods = models.PositiveSmallIntegerField(_("最多课时数"), default=3)
    default_periods = models.PositiveSmallIntegerField(_("默认课时数"), default=3)
    max_team_members = models.PositiveSmallIntegerField(_("团队成员上限（不含主讲教师）"), default=4)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("活动类别")
        verbose_name_plural = _("活动类别")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "category"], name="campaigns_category_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_category_display()}"


class ResourceSlot(models.Model):
    """One item of a category's resource package (per 课时)."""

    campaign_category = models.ForeignKey(CampaignCategory, on_delete=models.CASCADE, related_name="slots")
    kind = models.CharField(_("资源类型"), max_length=20, choices=ResourceKind.choices)
    label = models.CharField(_("名称"), max_length=50, blank=True)
    required = models.BooleanField(_("必交"), default=True)
    formats = models.JSONField(_("接受的格式"), default=list, help_text=_("例如 [\"pdf\", \"docx\"]"))
    max_size_mb = models.PositiveIntegerField(_("大小上限（MB）"), default=50)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("资源项")
        verbose_name_plural = _("资源项")
        ordering = ["campaign_category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign_category", "kind"], name="campaigns_slot_unique_kind"),
        ]

    def __str__(self) -> str:
        return self.label or self.get_kind_display()


class ProductionSpec(models.Model):
    """Video production rules for one category and stage (blank stage: any stage)."""

    campaign_category = models.ForeignKey(CampaignCategory, on_delete=models.CASCADE, related_name="specs")
    stage = models.CharField(_("学段"), max_length=10, choices=Stage.choices, blank=True)
    container = models.CharField(_("封装格式"), max_length=10, default="mp4")
    video_codec = models.CharField(_("视频编码"), max_length=10, default="h264")
    width = models.PositiveIntegerField(_("宽（像素）"), default=1920)
    height = models.PositiveIntegerField(_("高（像素）"), default=1080)
    fps = models.DecimalField(_("帧率"), max_digits=5, decimal_places=2, default=25)
    video_bitrate_kbps = models.PositiveIntegerField(_("视频码率（kbps）"), default=8000)
    audio_codec = models.CharField(_("音频编码"), max_length=10, default="aac")
    audio_bitrate_kbps = models.PositiveIntegerField(_("音频码率（kbps）"), default=128)
    min_duration_s = models.PositiveIntegerField(_("最短时长（秒）"), default=600)
    max_duration_s = models.PositiveIntegerField(_("最长时长（秒）"), default=900)
    max_size_mb = models.PositiveIntegerField(_("文件大小上限（MB）"), default=1024)
    title_card_seconds = models.PositiveSmallIntegerField(_("片头时长（秒）"), default=5)
    # {rule: "fail" | "warn" | "off"} for every rule of media.rules.CHECK_RULES (missing rules: the
    # shipped default). Applies to every file of the category and stage, videos and documents.
    severities = models.JSONField(_("检测项严重程度"), default=dict, blank=True)

    class Meta:
        verbose_name = _("制作规范")
        verbose_name_plural = _("制作规范")
        ordering = ["campaign_category", "stage"]
        constraints = [
            models.UniqueConstraint(fields=["campaign_category", "stage"], name="campaigns_spec_unique_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_category} · {self.get_stage_display() or _('全部学段')}"

    @property
    def severity_groups(self) -> list[tuple[str, str, list[str]]]:
        """(severity, its label, labels of the rules at it) for fail, warn and off, non-empty only."""
        severities = severities_with_defaults(self.severities)
        groups = []
        for level, label in SEVERITY_LABELS.items():
            rules = [str(CHECK_RULES[r][0]) for r, lv in severities.items() if lv == level]
            if rules:
                groups.append((level, str(label), rules))
        return groups


class Level(models.Model):
    """One level of the chain, named by the kind of unit that acts at it.

    ``deadline`` is when units of this kind must have finished recommending upward.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="levels")
    kind = models.CharField(_("层级"), max_length=10, choices=UnitKind.choices)
    name = models.CharField(_("名称"), max_length=50, help_text=_("例如 县级初选"))
    award_name = models.CharField(_("本级荣誉"), max_length=30, blank=True, help_text=_("例如 县级精品课"))
    publicity_days = models.PositiveSmallIntegerField(_("公示天数"), default=5,
                                                      help_text=_("本级推荐结果公示的天数"))
    deadline = models.DateTimeField(_("推荐截止时间"), null=True, blank=True)
    confirm_deadline = models.DateTimeField(_("汇总表确认截止时间"), null=True, blank=True)
    contact_form_deadline = models.DateTimeField(_("工作联系表截止时间"), null=True, blank=True)
    # Resource kinds that must be present when an entry goes up from this level (issue 4).
    required_resources = models.JSONField(_("上报时须具备的资源"), default=list, blank=True)

    class Meta:
        verbose_name = _("层级")
        verbose_name_plural = _("层级")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind"], name="campaigns_level_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.name}"


class DeadlineOverride(models.Model):
    """A unit's own deadline at a level; applies to the unit and the units below it."""

    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="overrides")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="deadline_overrides")
    deadline = models.DateTimeField(_("推荐截止时间"), null=True, blank=True)
    confirm_deadline = models.DateTimeField(_("汇总表确认截止时间"), null=True, blank=True)
    contact_form_deadline = models.DateTimeField(_("工作联系表截止时间"), null=True, blank=True)
    reason = models.CharField(_("理由"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("单位截止时间")
        verbose_name_plural = _("单位截止时间")
        constraints = [
            models.UniqueConstraint(fields=["level", "unit"], name="campaigns_override_unique"),
        ]

    def __str__(self) -> str:
        return f"DeadlineOverride {self.pk}: level {self.level_id}, unit {self.unit_id}"


class Quota(models.Model):
    """How many entries a recommending unit may send up.

    A row without ``unit`` is the level's default (optionally only for schools of
    one owner kind, e.g. 市直属学校); a row with ``unit`` overrides it for that unit.
    ``subject`` limits the row to one subject; ``per_subject`` applies ``limit`` to
    every subject separately ("每类每学科各 1 节").
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="quotas")
    level = models.ForeignKey(Level, on_delete=models.CASCADE, related_name="quotas")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="quotas")
    school_owner_kind = models.CharField(
        _("适用学校类型"), max_length=10, blank=True, choices=UnitKind.choices,
        help_text=_("仅对学校层级的默认名额：县属、市直属或省属学校。"),
    )
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    subject = models.CharField(_("学科"), max_length=30, blank=True)
    per_subject = models.BooleanField(_("每学科分别计算"), default=False)
    limit = models.PositiveIntegerField(_("名额"))

    class Meta:
        verbose_name = _("名额")
        verbose_name_plural = _("名额")
        ordering = ["campaign", "level", "unit", "category", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["level", "school_owner_kind", "category", "subject"],
                condition=models.Q(unit__isnull=True),
                name="campaigns_quota_unique_default",
            ),
            models.UniqueConstraint(
                fields=["level", "unit", "category", "subject"],
                condition=models.Q(unit__isnull=False),
                name="campaigns_quota_unique_override",
            ),
        ]

    def __str__(self) -> str:
        return f"Quota {self.pk}: level {self.level_id}, unit {self.unit_id}, {self.category} {self.subject} {self.limit}"


class Contact(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="contacts")
    category = models.CharField(_("负责类别"), max_length=12, choices=Category.choices, blank=True)
    unit_name = models.CharField(_("单位/部门"), max_length=100)
    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("电话"), max_length=40)
    email = models.EmailField(_("邮箱"), blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        return f"{self.unit_name} {self.name}"


def notice_upload_to(instance, filename):
    import uuid
    from pathlib import Path

    return f"notices/{instance.campaign_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"


class NoticeDocument(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="notices")
    title = models.CharField(_("文件标题"), max_length=200)
    issuer = models.CharField(_("发文单位"), max_length=100, blank=True)
    doc_number = models.CharField(_("文号"), max_length=60, blank=True)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    body = models.TextField(_("正文"), blank=True)
    file = models.FileField(_("附件"), upload_to=notice_upload_to, blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("通知文件")
        verbose_name_plural = _("通知文件")
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        return self.title
