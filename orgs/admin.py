from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from orgs.models import Membership, Unit, User


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "real_name", "mobile", "is_active", "must_change_password")
    search_fields = ("username", "real_name", "mobile")
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("real_name", "mobile", "must_change_password")}),)
    inlines = [MembershipInline]
