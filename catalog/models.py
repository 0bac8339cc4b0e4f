"""Textbooks, their chapter trees, and the nodes a campaign opens.

A textbook is identified by six dimensions, as on the national platform:
学段 (with 学制), 年级, 学科, 版本, 册次, 新旧教材. Its chapter tree is 单元 › 课
(› 课时 …); only leaves can be chosen for a course.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Stage
from catalog import rules


class Edition(models.TextChoices):
    NEW = "new", _("新教材")
    OLD = "old", _("旧教材")


class Textbook(models.Model):
    stage = models.CharField(_("学段"), max_length=10, choices=Stage.choices)
    school_system = models.CharField(_("学制"), max_length=20, blank=True, help_text=_("例如 六三学制、五四学制、培智学校"))
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    subject = models.CharField(_("学科"), max_length=30)
    version = models.CharField(_("版本"), max_length=40)
    volume = models.CharField(_("册次"), max_length=30)
    edition = models.CharField(_("新旧教材"), max_length=3, choices=Edition.choices, default=Edition.NEW)
    title = models.CharField(_("教材名称"), max_length=120, blank=True)
    external_id = models.CharField(_("平台教材ID"), max_length=64, null=True, blank=True, unique=True)
    # Stage and grade as one sortable number (小学一年级 < … < 初中九年级 < 高中 < 特殊教育), set on save.
    rank = models.PositiveSmallIntegerField(default=0, editable=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("教材")
        verbose_name_plural = _("教材")
        ordering = ["rank", "subject", "version", "volume", "edition", "school_system"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "school_system", "grade", "subject", "version", "volume", "edition"],
                name="catalog_textbook_unique_dimensions",
            ),
        ]
        indexes = [models.Index(fields=["subject", "grade"])]

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        self.rank = rules.textbook_rank(self.stage, self.grade)
        if not self.title:
            self.title = self.default_title()
        super().save(*args, **kwargs)

    def default_title(self) -> str:
        return rules.textbook_title(self.version, self.subject, self.grade, self.volume)

    @property
    def label(self) -> str:
        """Title plus what tells otherwise equal books apart: 统编版语文一年级上册（旧教材）."""
        return (self.title or self.default_title()) + rules.textbook_suffix(self.stage, self.school_system, self.edition)

    @property
    def stage_label(self) -> str:
        return rules.stage_label(self.stage, self.school_system)


class CatalogNode(models.Model):
    textbook = models.ForeignKey(Textbook, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    title = models.CharField(_("标题"), max_length=200)
    order = models.PositiveIntegerField(_("顺序"), default=0)
    depth = models.PositiveSmallIntegerField(default=0)
    is_leaf = models.BooleanField(_("可选节点"), default=True)
    label_path = models.CharField(_("目录路径"), max_length=500, blank=True)  # "第一单元 › 1 秋天"
    external_id = models.CharField(_("平台节点ID"), max_length=64, null=True, blank=True)  # noqa: DJ001 (NULL: no id; "" would collide in the unique constraint)
    remark = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("例如 含实验：探究平面镜成像的特点"))

    class Meta:
        verbose_name = _("目录节点")
        verbose_name_plural = _("目录节点")
        ordering = ["textbook", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["textbook", "external_id"], name="catalog_node_unique_external_id"),
        ]
        indexes = [models.Index(fields=["textbook", "is_leaf"])]

    def __str__(self) -> str:
        return self.label_path or self.title


class OpenNode(models.Model):
    """A catalog leaf opened for declarations in one campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="open_nodes")
    node = models.ForeignKey(CatalogNode, on_delete=models.CASCADE, related_name="openings")
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("开放节点")
        verbose_name_plural = _("开放节点")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "node"], name="catalog_opennode_unique"),
        ]

    def __str__(self) -> str:
        return f"OpenNode {self.pk}: campaign {self.campaign_id}, node {self.node_id}"
