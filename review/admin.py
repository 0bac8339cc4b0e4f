"""Django admin for inspecting review data (changes go through the pages and the API, which audit them)."""

from django.contrib import admin

from review.models import Assignment, Conflict, ExpertProfile, PanelMember, ReviewRound, RoundEntry, Rubric


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Rubric)
class RubricAdmin(ReadOnlyAdmin):
    list_display = ("title", "campaign", "category", "total_points")
    list_filter = ("category",)


@admin.register(ExpertProfile)
class ExpertProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "work_unit", "work_unit_name", "max_load")


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ("expert", "course", "reason", "declared_at")


@admin.register(ReviewRound)
class ReviewRoundAdmin(ReadOnlyAdmin):
    list_display = ("title", "campaign", "unit", "level", "phase", "status", "closes_at")
    list_filter = ("phase", "status")


@admin.register(RoundEntry)
class RoundEntryAdmin(ReadOnlyAdmin):
    list_display = ("code", "round", "entry")


@admin.register(PanelMember)
class PanelMemberAdmin(ReadOnlyAdmin):
    list_display = ("round", "expert", "is_chair")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("round", "entry", "expert", "state", "assigned_at")


# --- lecture scores entered by the chair; adjudication ---
from review.models import Adjudication  # noqa: E402  (this part's section stays self-contained for the merge)


@admin.register(Adjudication)
class AdjudicationAdmin(ReadOnlyAdmin):
    list_display = ("round_entry", "points", "by", "at")


# --- publicity (公示) and objections ---
from review.models import Objection, Publicity, PublicityItem  # noqa: E402


@admin.register(Publicity)
class PublicityAdmin(ReadOnlyAdmin):
    list_display = ("title", "unit", "level", "starts_at", "ends_at", "state")


@admin.register(PublicityItem)
class PublicityItemAdmin(ReadOnlyAdmin):
    list_display = ("course_title", "publicity", "school_name", "recommended", "awarded", "withdrawn")


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("publicity", "item", "name", "created_at", "state")
