"""One row per running task worker process (``manage.py db_worker``), beaten every
JPK_TASK_HEARTBEAT_SECONDS. A worker whose row is older than JPK_TASK_WORKER_DEAD_SECONDS is
dead: the tasks it was running go back to the queue (workers.services.recover_dead_workers)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerProcess(models.Model):
    worker_id = models.CharField(_("进程标识"), max_length=64, primary_key=True)
    hostname = models.CharField(_("主机"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("进程号"), default=0)
    started_at = models.DateTimeField(_("启动时间"), auto_now_add=True)
    last_seen = models.DateTimeField(_("最近心跳"), db_index=True)

    class Meta:
        verbose_name = _("后台任务进程")
        verbose_name_plural = _("后台任务进程")

    def __str__(self):
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
