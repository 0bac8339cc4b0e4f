from django.contrib import admin

from workers.models import WorkerProcess


@admin.register(WorkerProcess)
class WorkerProcessAdmin(admin.ModelAdmin):
    """Read-only: the task workers that registered, and when each last beat."""

    list_display = ("worker_id", "hostname", "pid", "started_at", "last_seen")
    search_fields = ("worker_id", "hostname")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
