"""Where each course stands at each level of the chain, and each unit's standing at a level.

An ``Entry`` is a course in the hands of one unit at one level (the school, then the county or
the city that owns the school, ...): it arrives ``pending`` and the unit's admin returns,
declines or recommends it; a recommendation creates the entry at the next level. The award of a
level (县级/市级精品课) is a flag on the entry, independent of recommending.

A ``UnitLevel`` is one unit at one level: the row a recommendation locks (so two admins cannot
overrun a quota together), and where the confirmation of the summary table is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from selection.rules import COMPLIANCE_LABELS


class EntryState(models.TextChoices):
    PENDING = "pending", _("待处理")
    RETURNED = "returned", _("已退回")
    RECOMMENDED = "recommended", _("已推荐")
    DECLINED = "declined", _("未推荐")


class UnitLevel(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="unit_levels")
    level = models.ForeignKey("campaigns.Level", on_delete=models.CASCADE, related_name="unit_levels")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.CASCADE, related_name="unit_levels")
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    unlock_reason = models.CharField(_("解锁理由"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("单位层级状态")
        verbose_name_plural = _("单位层级状态")
        constraints = [models.UniqueConstraint(fields=["level", "unit"], name="selection_unitlevel_unique")]

    def __str__(self) -> str:
        return f"{self.unit} · {self.level}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class Entry(models.Model):
    # The level's campaign, copied so that lists filter and sort on one indexed column of the
    # entry (issue 12). ``save`` fills it from the level; ``bulk_create`` callers must set it.
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("遴选活动"))
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="entries")
    level = models.ForeignKey("campaigns.Level", on_delete=models.PROTECT, related_name="entries")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="entries")
    from_unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Copied from the course so that the node rule can be backed by a database constraint.
    node = models.ForeignKey("catalog.CatalogNode", on_delete=models.PROTECT, related_name="+")
    node_exclusive = models.BooleanField(default=True)  # the campaign blocks a second course on the node
    state = models.CharField(_("状态"), max_length=12, choices=EntryState.choices, default=EntryState.PENDING)
    rank = models.PositiveSmallIntegerField(_("推荐顺序"), null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    node_reason = models.TextField(_("同一节点推荐理由"), blank=True)
    awarded = models.BooleanField(_("本级荣誉"), default=False)
    arrived_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        verbose_name = _("推荐记录")
        verbose_name_plural = _("推荐记录")
        ordering = ["level", "unit", "rank", "id"]
        indexes = [
            models.Index(fields=["level", "unit", "state"]),
            # The lists: a campaign's entries in the default order (rank, unranked last), by state.
            models.Index(fields=["campaign", "rank", "id"], name="selection_entry_cmp_rank"),
            models.Index(fields=["unit", "campaign", "rank", "id"], name="selection_entry_unit_rank"),
            models.Index(fields=["campaign", "state"], name="selection_entry_cmp_state"),
            # The progress board and the desk's counts: entries of some units by state, award and
            # node, answered from the index alone (no row, no course read). With their course
            # (PostgreSQL: INCLUDE) a search of a scope's entries (a title word in 6 % of the titles
            # as a city admin) intersects the scope's entries with the matching courses from this
            # index alone, instead of scanning every entry of the campaign (200 k: 88 -> 9 ms).
            models.Index(fields=["campaign", "unit", "state", "awarded", "node"], include=["course"],
                         name="progress_entry_board"),
            # The picked entries (recommended or awarded: bounded by the quotas, not by what was
            # declared) of some units, for the quota boards and the share caps: the board reads
            # these rows only, not every entry of a city or a province (issue 12).
            models.Index(fields=["campaign", "unit", "state", "awarded", "node", "course"],
                         condition=Q(state="recommended") | Q(awarded=True), name="progress_entry_picked"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["course", "level"], name="selection_entry_once_per_level"),
            # One course per catalog node per unit and level, when the campaign blocks duplicates.
            models.UniqueConstraint(fields=["level", "unit", "node"], condition=Q(state="recommended", node_exclusive=True),
                                    name="selection_entry_one_per_node"),
        ]

    def __str__(self) -> str:
        return f"{self.course} @ {self.unit}"

    def save(self, *args, **kwargs):
        if self.campaign_id is None and self.level_id is not None:
            self.campaign_id = self.level.campaign_id
        super().save(*args, **kwargs)

    @property
    def compliance_label(self) -> str:
        """Label of the ``compliance`` annotation (services.with_compliance)."""
        return str(COMPLIANCE_LABELS.get(getattr(self, "compliance", ""), ""))


class EntryTally(models.Model):
    """How many entries a unit holds in a campaign by state and award: kept by triggers on the
    entries (``selection/tally.py``), read by the progress board. Not edited by the application."""

    pk = models.CompositePrimaryKey("campaign_id", "unit_id", "state", "awarded")
    campaign_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    state = models.CharField(max_length=12)
    awarded = models.BooleanField()
    n = models.IntegerField()

    class Meta:
        verbose_name = _("推荐记录计数")
        verbose_name_plural = _("推荐记录计数")

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.unit_id}:{self.state}:{self.awarded}={self.n}"


class NodeTally(models.Model):
    """How many live entries (pending or recommended) a unit holds on a catalog node in a campaign:
    kept by triggers on the entries (``selection/tally.py``); a node held twice or more is a node
    conflict of the progress board, whose partial index holds those rows only."""

    pk = models.CompositePrimaryKey("campaign_id", "unit_id", "node_id")
    campaign_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    node_id = models.BigIntegerField()
    n = models.IntegerField()

    class Meta:
        verbose_name = _("目录节点计数")
        verbose_name_plural = _("目录节点计数")
        indexes = [models.Index(fields=["campaign_id", "unit_id"], condition=Q(n__gt=1), name="selection_node_conflicts")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.unit_id}:{self.node_id}={self.n}"
