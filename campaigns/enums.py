"""Choices of the campaigns app. At the bottom of the layers: rules.py and models.py import them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The level chain, lowest first. Values are those of orgs.models.UnitKind.
LEVEL_ORDER = ("school", "county", "city", "province")
LEVEL_LABELS = {"school": _("学校"), "county": _("县（市、区）"), "city": _("市"), "province": _("省")}


class Category(models.TextChoices):
    SUBJECT = "subject", _("学科课程")
    SPECIAL = "special", _("特殊教育")
    EXPERIMENT = "experiment", _("实验教学")


class ResourceKind(models.TextChoices):
    VIDEO = "video", _("微课视频")
    EXPERIMENT_VIDEO = "experiment_video", _("实验教学视频")
    LESSON_PLAN = "lesson_plan", _("教学设计")
    EXPERIMENT_PLAN = "experiment_plan", _("实验教学设计")
    TASK_SHEET = "task_sheet", _("学习任务单")
    SLIDES = "slides", _("课件")
    EXERCISES = "exercises", _("作业练习")
    STUDY_GUIDE = "study_guide", _("导学案")


VIDEO_KINDS = {ResourceKind.VIDEO, ResourceKind.EXPERIMENT_VIDEO}

# Kinds kept off the public showcase by default: the exercises are what teachers hand out in class
# (and often carry the answers), so a campaign publishes them only when it says so.
PRIVATE_BY_DEFAULT = {ResourceKind.EXERCISES}


def default_public_kinds() -> list[str]:
    """Default of ``Campaign.public_resource_kinds``: every resource kind except the exercises."""
    return [k for k in ResourceKind.values if k not in PRIVATE_BY_DEFAULT]


class Stage(models.TextChoices):
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    SPECIAL = "special", _("特殊教育")


class NodeRule(models.TextChoices):
    BLOCK = "block", _("禁止重复（同一目录节点只推荐 1 节）")
    WARN = "warn", _("提醒并填写理由")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("筹备中")
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


class ShareAppliesTo(models.TextChoices):
    RECOMMENDATIONS = "recommendations", _("向上推荐")
    AWARDS = "awards", _("本级评定（如市级精品课）")


class DeadlineSource(models.TextChoices):
    """Where an effective deadline comes from (for pages: 本单位设置 / 继承自… / 活动默认)."""

    OWN = "own", _("本单位设置")
    INHERITED = "inherited", _("继承自上级单位")
    DEFAULT = "default", _("活动默认")
