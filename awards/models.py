"""Certificates (证书) of a level's awards: the template a unit issues with, each certificate as a
snapshot of what it says, and the issuing jobs that make them in the background.

A certificate is issued by the unit that holds the awarded entry at its level (the city for
市级精品课), one per person: the lead teacher and each team member. The PDF is rendered from the
snapshot whenever it is downloaded (``awards.pdf``), so nothing but rows is stored; the public
verification page is found by an unguessable token.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from awards import rules


def new_token() -> str:
    return secrets.token_urlsafe(18)  # 144 bits


def seal_upload_to(instance, filename: str) -> str:
    return f"awards/seals/{secrets.token_hex(12)}.png"


class CertificateTemplate(models.Model):
    """How a unit's certificates of one level look: title, body with placeholders, seal, signature."""

    level = models.ForeignKey("campaigns.Level", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("标题"), max_length=30, default=rules.DEFAULT_TITLE)
    body = models.TextField(_("正文"), default=rules.DEFAULT_BODY)
    issuer_name = models.CharField(_("颁发单位（落款）"), max_length=60)
    signature = models.CharField(_("签章行"), max_length=60, blank=True, help_text=_("例如 湛江市教育局（盖章）"))
    seal = models.FileField(_("公章图片"), upload_to=seal_upload_to, blank=True)
    issue_date = models.DateField(_("落款日期"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("证书模板")
        verbose_name_plural = _("证书模板")
        constraints = [models.UniqueConstraint(fields=["level", "unit"], name="awards_template_unique")]

    def __str__(self) -> str:
        return f"{self.issuer_name} · {self.title}"


class CertificateQuerySet(models.QuerySet):
    def held_by(self, user) -> CertificateQuerySet:
        if not (user and user.is_authenticated):
            return self.none()
        return self.filter(holder=user)


class Certificate(models.Model):
    entry = models.ForeignKey("selection.Entry", on_delete=models.PROTECT, related_name="certificates")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates")
    issuer = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey("campaigns.Level", on_delete=models.PROTECT, related_name="+")
    serial = models.CharField(_("证书编号"), max_length=40, unique=True)
    number = models.PositiveIntegerField()  # the running number within issuer × level
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    role = models.CharField(_("身份"), max_length=10, choices=[("lead", _("主讲教师")), ("member", _("团队成员"))])
    # What the certificate says, as it was issued.
    holder_name = models.CharField(_("姓名"), max_length=50)
    school_name = models.CharField(_("学校"), max_length=100)
    course_title = models.CharField(_("课程"), max_length=200)
    node_label = models.CharField(_("目录节点"), max_length=300)
    category_label = models.CharField(_("类别"), max_length=20)
    award_name = models.CharField(_("荣誉"), max_length=30)
    year = models.PositiveSmallIntegerField(_("年度"))
    issuer_name = models.CharField(_("颁发单位"), max_length=60)
    issued_at = models.DateTimeField(_("颁发时间"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    revoke_reason = models.TextField(_("撤销理由"), blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["issuer", "level", "number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "holder"], name="awards_certificate_once_per_person"),
            models.UniqueConstraint(fields=["issuer", "level", "number"], name="awards_certificate_number"),
            models.CheckConstraint(condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                                   name="awards_certificate_revoke_reason"),
        ]

    def __str__(self) -> str:
        return self.serial

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def text(self) -> rules.CertificateText:
        return rules.CertificateText(self.holder_name, self.school_name, self.course_title, self.node_label,
                                     self.category_label, self.award_name, self.year, self.issuer_name, self.role)


class IssueJob(models.Model):
    """One issuing of a level's certificates by a unit, run in the background; its progress bar."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("颁发中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    level = models.ForeignKey("campaigns.Level", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)  # new certificates (the others existed already)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # the last progress (a stale job is started again)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("颁发任务")
        verbose_name_plural = _("颁发任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"IssueJob {self.pk}: level {self.level_id}, unit {self.unit_id}, {self.state} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class Commendation(models.Model):
    """A commendation notice (通报表扬) of a city or province naming units with outstanding work."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=100)
    doc_number = models.CharField(_("文号"), max_length=60, blank=True)
    body = models.TextField(_("正文"))
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("通报表扬")
        verbose_name_plural = _("通报表扬")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CommendedUnit(models.Model):
    commendation = models.ForeignKey(Commendation, on_delete=models.CASCADE, related_name="units")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("表扬理由"))
    facts = models.JSONField(default=dict)  # the measurable facts as they were when decided
    proposed = models.BooleanField(default=True)  # False: the admin chose a unit the facts did not propose
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("受表扬单位")
        verbose_name_plural = _("受表扬单位")
        ordering = ["commendation", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["commendation", "unit"], name="awards_commended_once")]

    def __str__(self) -> str:
        return f"CommendedUnit {self.pk}: commendation {self.commendation_id}, unit {self.unit_id}"
