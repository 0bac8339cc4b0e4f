"""The contact form (工作联系表) a reporting unit files once per campaign: the people who handle
the campaign (单位名称 is the unit; 姓名, 职务, 手机, 负责类别, 备注 per person) and the stamped scan.

The scan is a ``media.StoredFile`` (private: served only through the contact form's own
permission-checked view). Who files and by when: ``contacts.rules``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactFormQuerySet(models.QuerySet):
    def visible_to(self, user) -> ContactFormQuerySet:
        """Forms of the units the user administers and the units below them."""
        if not (user and user.is_authenticated):
            return self.none()
        if user.is_superuser:
            return self
        units = user.admin_units()
        if not units:
            return self.none()
        q = models.Q()
        for unit in units:
            q |= models.Q(unit__path__startswith=unit.path)
        return self.filter(q)


class ContactForm(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="contact_forms")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="contact_forms",
                             verbose_name=_("单位"))
    level = models.ForeignKey("campaigns.Level", on_delete=models.PROTECT, related_name="+")
    scan = models.ForeignKey("media.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("盖章扫描件"))
    filed_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("最后修改"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    objects = ContactFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("工作联系表")
        verbose_name_plural = _("工作联系表")
        ordering = ["campaign", "unit__path"]
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="contacts_form_once_per_unit")]

    def __str__(self) -> str:
        return f"{self.unit.name} · {_('工作联系表')}"

    @property
    def filed(self) -> bool:
        return self.filed_at is not None


class ContactPerson(models.Model):
    form = models.ForeignKey(ContactForm, on_delete=models.CASCADE, related_name="people")
    order = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(_("姓名"), max_length=50)
    position = models.CharField(_("职务"), max_length=50)
    mobile = models.CharField(_("手机"), max_length=11)
    categories = models.JSONField(_("负责类别"), default=list)  # category codes of the campaign
    remark = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["form", "order", "id"]

    def __str__(self) -> str:
        return self.name
