"""A course that turns from passing to failing its checks (courses.signals.checks_failed) tells its
lead teacher and team, in the app and by e-mail; the words depend on whether the course can still
be changed."""

from django.core import mail
from django.urls import reverse

from courses.models import Course
from courses.signals import checks_failed
from notifications import checks
from notifications.models import Notification

PROBLEMS = ["第1课时“微课视频”：音频 没有声音，要求 AAC", "第2课时“微课视频”：帧率 30 fps，要求 25 fps"]


def test_the_text_says_what_fails_and_what_to_do():
    assert checks.failed_text("秋天", "draft", PROBLEMS) == (
        "《秋天》的资源检测变为未通过",
        "遴选活动调整了检测要求，系统按新要求重新检测了已上传的文件，以下资源现在未通过：\n"
        "第1课时“微课视频”：音频 没有声音，要求 AAC\n第2课时“微课视频”：帧率 30 fps，要求 25 fps\n"
        "请按检测报告修改后重新上传；有未通过检测的资源时课程不能提交。")
    assert checks.failed_text("秋天", "returned", PROBLEMS)[1].endswith("课程不能提交。")
    assert checks.failed_text("秋天", "submitted", PROBLEMS[:1])[1] == (
        "遴选活动调整了检测要求，系统按新要求重新检测了已上传的文件，以下资源现在未通过：\n"
        "第1课时“微课视频”：音频 没有声音，要求 AAC\n课程已提交。如需更换文件，请联系学校管理员退回后修改。")


def test_the_lead_teacher_and_the_team_are_told(course, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        checks_failed.send(sender=Course, course=course, problems=PROBLEMS[:1])
    rows = Notification.objects.filter(kind="checks").order_by("recipient_id")
    assert [(n.recipient, n.title, n.link, n.campaign_id, n.link_label) for n in rows] == [
        (u, "《秋天》的资源检测变为未通过", reverse("courses:detail", args=[course.pk]), course.campaign_id, "查看检测报告")
        for u in sorted([people.teacher, people.colleague], key=lambda u: u.pk)]
    assert [(m.to, m.subject) for m in mail.outbox] == [(["teacher@example.cn"], "[精品课遴选] 《秋天》的资源检测变为未通过")]
