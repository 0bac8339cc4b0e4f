from django.contrib import admin

from notifications.models import Notification, UnitReminder


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "title", "read_at", "emailed_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username", "recipient__real_name")
    raw_id_fields = ("recipient", "campaign", "entry")


@admin.register(UnitReminder)
class UnitReminderAdmin(admin.ModelAdmin):
    list_display = ("campaign", "unit", "last_sent_at", "last_sent_by", "times")
    raw_id_fields = ("campaign", "unit", "last_sent_by")
