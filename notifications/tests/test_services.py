"""Each decision on an entry tells the right people, and no one else; e-mails go out through the
task after the decision commits; a mail server that fails never undoes a decision."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from audit.models import Event
from campaigns.models import Level
from courses.models import CourseMember
from notifications import services
from notifications.models import Kind, Notification
from selection import services as selection
from selection.models import Entry
from selection.tests.helpers import entry_at

pytestmark = pytest.mark.django_db


class FailingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def deadline_of(campaign, kind):
    return Level.objects.get(campaign=campaign, kind=kind).deadline


def notes(**filters):
    return list(Notification.objects.filter(**filters).order_by("recipient__username", "kind")
                .values_list("recipient__username", "kind", "title"))


def local(moment):
    return services.rules.local_text(moment)


def test_return_tells_the_lead_teacher_and_the_team_with_the_reason_and_by_when(
        people, campaign, course, django_capture_on_commit_callbacks):
    entry = entry_at(course, "school")
    now = deadline_of(campaign, "school") - timedelta(days=2, hours=3)
    with django_capture_on_commit_callbacks(execute=True):
        selection.decide(people.school_admin, entry.pk, "return", reason="视频片头缺少课程名称", now=now)
    assert notes() == [("colleague", Kind.RETURNED, "《秋天》被湛江市第二十一小学退回修改"),
                       ("teacher", Kind.RETURNED, "《秋天》被湛江市第二十一小学退回修改")]
    n = Notification.objects.get(recipient=people.teacher)
    by = local(deadline_of(campaign, "school"))
    assert n.body == ("退回理由：视频片头缺少课程名称\n课程已恢复为可编辑状态。\n"
                      f"请按退回理由修改，并在 {by} 前重新提交（剩 2 天 3 小时），重新提交后课程会回到湛江市第二十一小学。")
    assert (n.link, n.campaign, n.entry_id) == (f"/courses/{course.pk}/", campaign, entry.pk)
    # One e-mail: the teacher has an address, 王老师 has none (in-app only).
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["teacher@example.cn"], "[精品课遴选] 《秋天》被湛江市第二十一小学退回修改")]
    assert "视频片头缺少课程名称" in mail.outbox[0].body
    assert f"查看详情：http://127.0.0.1:8000/courses/{course.pk}/" in mail.outbox[0].body
    n.refresh_from_db()
    assert n.emailed_at is not None
    assert Notification.objects.get(recipient=people.colleague).emailed_at is None


def test_a_return_by_the_county_names_the_earlier_deadline(people, campaign, course):
    from campaigns.models import DeadlineOverride

    selection.decide(people.school_admin, entry_at(course, "school").pk, "recommend")
    county_entry = entry_at(course, "county")
    school_deadline = deadline_of(campaign, "school") - timedelta(days=5)
    DeadlineOverride.objects.create(level=Level.objects.get(campaign=campaign, kind="school"), unit=people.school,
                                    deadline=school_deadline)
    now = school_deadline - timedelta(days=1)
    selection.decide(people.county_admin, county_entry.pk, "return", reason="请补充作业练习", now=now)
    body = Notification.objects.get(recipient=people.teacher, kind=Kind.RETURNED).body
    assert f"并在 {local(school_deadline)} 前重新提交（剩 1 天 0 小时），重新提交后课程会回到赤坎区。" in body
    # after that moment the text says whom to ask
    assert services.texts.returned("秋天", "赤坎区", "x", school_deadline, school_deadline + timedelta(hours=1))[1] \
        .endswith(f"重新提交的截止时间（{local(school_deadline)}）已过，请联系赤坎区为您重新开放后再提交。")


def test_decline_tells_the_team_only(people, campaign, course):
    selection.decide(people.school_admin, entry_at(course, "school").pk, "decline", reason="本校同类课程较多")
    assert notes() == [("colleague", Kind.DECLINED, "《秋天》在学校推荐未获推荐"),
                       ("teacher", Kind.DECLINED, "《秋天》在学校推荐未获推荐")]
    assert Notification.objects.get(recipient=people.teacher).body == (
        "湛江市第二十一小学没有推荐这门课程。理由：本校同类课程较多。"
        "这门课程在本次遴选中到此结束，无需再操作；如有疑问，请联系湛江市第二十一小学。")


def test_recommend_tells_the_team_and_the_admins_of_the_receiving_unit(people, campaign, course,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        selection.decide(people.school_admin, entry_at(course, "school").pk, "recommend")
    county_entry = entry_at(course, "county")
    assert notes() == [
        ("ck_admin", Kind.INCOMING, "新的推荐待处理：《秋天》"),
        ("ck_admin2", Kind.INCOMING, "新的推荐待处理：《秋天》"),
        ("colleague", Kind.RECOMMENDED, "《秋天》已被湛江市第二十一小学推荐到赤坎区"),
        ("teacher", Kind.RECOMMENDED, "《秋天》已被湛江市第二十一小学推荐到赤坎区"),
    ]  # not the city, not the neighbouring county, not the school admin who acted
    incoming = Notification.objects.get(recipient=people.county_admin)
    assert (incoming.link, incoming.entry) == (f"/selection/entries/{county_entry.pk}/", county_entry)
    assert incoming.body.startswith("湛江市第二十一小学推荐了《秋天》（湛江市第二十一小学，学科课程 · 语文）。请在 ")
    assert incoming.body.endswith("前处理（剩 29 天 23 小时）：推荐、未推荐或退回修改。")
    assert Notification.objects.get(recipient=people.teacher).body == (
        "湛江市第二十一小学已将这门课程推荐到赤坎区，接下来由赤坎区进行县级初选。课程资料已锁定，您无需操作，请留意后续通知。")
    assert sorted(m.to[0] for m in mail.outbox) == ["ck2@example.cn", "county@example.cn", "teacher@example.cn"]


def test_undo_of_a_recommendation_tells_the_team_and_the_receiving_unit(client, people, campaign, course):
    school_entry = entry_at(course, "school")
    selection.decide(people.school_admin, school_entry.pk, "recommend")
    incoming = Notification.objects.get(recipient=people.county_admin, kind=Kind.INCOMING)
    selection.decide(people.school_admin, school_entry.pk, "undo")
    assert notes(kind__in=[Kind.UNDONE, Kind.INCOMING_UNDONE]) == [
        ("ck_admin", Kind.INCOMING_UNDONE, "推荐已撤回：《秋天》"),
        ("ck_admin2", Kind.INCOMING_UNDONE, "推荐已撤回：《秋天》"),
        ("colleague", Kind.UNDONE, "《秋天》的推荐已撤销"),
        ("teacher", Kind.UNDONE, "《秋天》的推荐已撤销"),
    ]
    # The county's "new recommendation" now leads to a note, not to a missing page.
    incoming.refresh_from_db()
    assert incoming.entry is None
    client.force_login(people.county_admin)
    response = client.get(f"/notifications/{incoming.pk}/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["这条推荐已被撤回，无需处理。"]


def test_undo_of_a_decline(people, campaign, course):
    school_entry = entry_at(course, "school")
    selection.decide(people.school_admin, school_entry.pk, "decline")
    selection.decide(people.school_admin, school_entry.pk, "undo")
    assert notes(kind=Kind.UNDONE) == [("colleague", Kind.UNDONE, "《秋天》的“未推荐”已撤销"),
                                       ("teacher", Kind.UNDONE, "《秋天》的“未推荐”已撤销")]
    assert not Notification.objects.filter(recipient__in=[people.county_admin, people.second_county_admin]).exists()


def test_award_and_unaward_tell_the_team_once_each(people, campaign, course):
    selection.decide(people.school_admin, entry_at(course, "school").pk, "recommend")
    Notification.objects.all().delete()
    county_entry = entry_at(course, "county")
    selection.set_award(people.county_admin, county_entry.pk, True)
    selection.set_award(people.county_admin, county_entry.pk, True)  # no change: nothing new
    assert notes() == [("colleague", Kind.AWARDED, "《秋天》被评为县级精品课"),
                       ("teacher", Kind.AWARDED, "《秋天》被评为县级精品课")]
    assert Notification.objects.get(recipient=people.teacher).body == "祝贺！赤坎区将这门课程评为县级精品课。"
    selection.set_award(people.county_admin, county_entry.pk, False)
    assert notes(kind=Kind.UNAWARDED) == [("colleague", Kind.UNAWARDED, "《秋天》的县级精品课已取消"),
                                          ("teacher", Kind.UNAWARDED, "《秋天》的县级精品课已取消")]


def test_the_actor_is_not_told_about_his_own_decision(people, campaign, course):
    CourseMember.objects.create(course=course, user=people.school_admin, order=2)  # the admin is on the team
    selection.decide(people.school_admin, entry_at(course, "school").pk, "decline")
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["colleague", "teacher"]


def test_a_refused_decision_tells_no_one(people, campaign, course):
    from jingpinke.errors import ServiceError

    with pytest.raises(ServiceError):
        selection.decide(people.school_admin, entry_at(course, "school").pk, "return", reason="")
    assert Notification.objects.count() == 0


def test_a_failing_mail_server_leaves_the_decision_saved(settings, people, campaign, course,
                                                          django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    entry = entry_at(course, "school")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        selection.decide(people.school_admin, entry.pk, "return", reason="请重新录制片头")
    assert len(callbacks) == 1  # the e-mail task, enqueued after the commit
    assert Entry.objects.get(pk=entry.pk).state == "returned"
    course.refresh_from_db()
    assert course.status == "returned"
    n = Notification.objects.get(recipient=people.teacher)
    assert n.emailed_at is None and mail.outbox == []
    # The periodic task mails it once the server is back.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.retry_unsent_emails(now=n.created_at + timedelta(minutes=11)) == {"sent": 1, "failed": 0}
    assert [m.to for m in mail.outbox] == [["teacher@example.cn"]]
    n.refresh_from_db()
    assert n.emailed_at is not None
    assert services.retry_unsent_emails(now=n.created_at + timedelta(minutes=20)) == {"sent": 0, "failed": 0}


def test_a_broken_notification_never_breaks_the_decision(monkeypatch, people, campaign, course, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(services.texts, "declined", broken)
    entry = entry_at(course, "school")
    selection.decide(people.school_admin, entry.pk, "decline")
    assert Entry.objects.get(pk=entry.pk).state == "declined"
    assert Event.objects.filter(action="selection.decline").count() == 1
    assert "could not notify about decline" in caplog.text


def test_emails_are_sent_once_even_if_enqueued_twice(people, campaign, course):
    selection.decide(people.school_admin, entry_at(course, "school").pk, "decline")
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert services.send_emails(ids) == {"sent": 1, "failed": 0}
    assert services.send_emails(ids) == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_the_mail_task_runs_through_django_tasks(people, campaign, course):
    from notifications.tasks import send_emails

    selection.decide(people.school_admin, entry_at(course, "school").pk, "decline")
    result = send_emails.enqueue(list(Notification.objects.values_list("pk", flat=True)))
    assert result.return_value == {"sent": 1, "failed": 0}
    assert [m.to for m in mail.outbox] == [["teacher@example.cn"]]


def test_inactive_users_and_duplicates_are_skipped(people, campaign):
    people.colleague.is_active = False
    people.colleague.save()
    created = services.notify([people.teacher, people.teacher, people.colleague], Kind.REMIND, "t", "b")
    assert [n.recipient for n in created] == [people.teacher]


def test_the_database_refuses_a_second_notification_with_the_same_key(people):
    from django.db import IntegrityError, transaction

    services.notify([people.teacher], Kind.DEADLINE, "t", "b", dedupe_key="k")
    assert services.notify([people.teacher, people.colleague], Kind.DEADLINE, "t", "b", dedupe_key="k")[0].recipient \
        == people.colleague
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=people.teacher, kind=Kind.DEADLINE, title="t", dedupe_key="k")
    # without a key, as many as needed
    services.notify([people.teacher], Kind.REMIND, "t", "b")
    services.notify([people.teacher], Kind.REMIND, "t", "b")
    assert Notification.objects.filter(recipient=people.teacher).count() == 3


def test_mail_links_use_the_configured_site_address(monkeypatch, settings):
    from notifications import services as notification_services

    monkeypatch.setenv("JPK_SITE_URL", "https://jpk.example.cn/")
    assert notification_services.site_url() == "https://jpk.example.cn"
    monkeypatch.delenv("JPK_SITE_URL")
    settings.CSRF_TRUSTED_ORIGINS = ["https://proxy.example.cn"]
    assert notification_services.site_url() == "https://proxy.example.cn"


def test_a_resubmitted_course_tells_the_unit_that_returned_it(people, campaign, course):
    selection.decide(people.school_admin, entry_at(course, "school").pk, "recommend")
    county_entry = entry_at(course, "county")
    selection.decide(people.county_admin, county_entry.pk, "return", reason="请补充作业练习")
    Notification.objects.all().delete()
    selection.enter(people.teacher, course)  # the teacher fixed it and sent it back
    assert notes() == [(admin, Kind.INCOMING, "退回的课程已重新提交：《秋天》") for admin in ("ck_admin", "ck_admin2")]
    n = Notification.objects.get(recipient=people.county_admin)
    assert n.body.startswith(f"{course.lead_teacher.display_name}按退回意见修改了《秋天》并重新提交（退回理由：请补充作业练习）。")
    assert (n.link, n.entry_id) == (services.entry_link(county_entry), county_entry.pk)
