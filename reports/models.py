"""Snapshots of a dashboard's area-wide aggregates (see ``reports.services.area_aggregates``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Snapshot(models.Model):
    """The aggregates over every entry of a unit's area in a campaign (courses declared by category,
    stage and subject; file check failures by reason; awards by level, category and subject), as
    ``area_aggregates`` computed them at ``computed_at``. They do not depend on who looks: every
    admin who may open the unit's dashboard sees its whole area. Refreshed in the background when
    older than ``REPORTS_SNAPSHOT_MINUTES`` or on demand (the page's 刷新 button)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField(_("数据时间"))
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("统计快照")
        verbose_name_plural = _("统计快照")
        constraints = [models.UniqueConstraint(fields=["campaign", "unit"], name="reports_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.unit_id} @ {self.computed_at:%Y-%m-%d %H:%M}"
