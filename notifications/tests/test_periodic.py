"""The periodic reminders: units whose deadlines are near and who have not confirmed, and teachers
whose courses are not submitted yet; each reminder reaches a user once per deadline and window."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import DeadlineOverride, Level
from jingpinke import periodic
from notifications import services
from notifications.models import Kind, Notification
from notifications.rules import local_text
from orgs.models import Role
from orgs.tests.factories import member
from selection import services as selection
from selection.models import UnitLevel
from selection.tests.helpers import entry_at, up_to_county

pytestmark = pytest.mark.django_db
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def set_level(campaign, kind, **values):
    Level.objects.filter(campaign=campaign, kind=kind).update(**values)


@pytest.fixture
def far(campaign, now):
    """Every deadline three weeks away: nothing is due."""
    campaign.levels.update(deadline=now + 21 * DAY, confirm_deadline=now + 21 * DAY,
                           contact_form_deadline=now + 21 * DAY)
    return campaign


def sent(kind=Kind.DEADLINE):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__username", "title"))


def test_nothing_is_due_three_weeks_ahead(people, far, course, now):
    assert services.send_deadline_reminders(now) == {"units": 0, "contact_forms": 0, "courses": 0}
    assert Notification.objects.count() == 0


def test_county_admins_are_reminded_once_per_window_until_they_confirm(people, far, make_course, nodes, now,
                                                                      django_capture_on_commit_callbacks):
    up_to_county(make_course(node=nodes[0], title="秋天"), people)
    Notification.objects.all().delete()  # the recommendation's own notifications
    county_day = now + 2 * DAY
    set_level(far, "county", deadline=county_day, confirm_deadline=county_day)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_deadline_reminders(now) == {"units": 3, "contact_forms": 0, "courses": 0}
    when = local_text(county_day)
    assert sent() == [("ck_admin", f"赤坎区：推荐上报、推荐汇总表确认将于 {when} 截止"),
                      ("ck_admin2", f"赤坎区：推荐上报、推荐汇总表确认将于 {when} 截止"),
                      ("xs_admin", f"霞山区：推荐上报、推荐汇总表确认将于 {when} 截止")]
    n = Notification.objects.get(recipient=people.county_admin)
    assert n.body == (f"{far.title}（县级初选）中，赤坎区的推荐上报、推荐汇总表确认将于 {when} 截止（剩 2 天 0 小时）。\n"
                      "还有 1 门课程待处理，请逐一推荐、未推荐或退回修改。\n处理完毕后请确认推荐汇总表，确认后本级结果锁定。")
    assert n.link == f"/selection/?campaign={far.pk}&held_by={people.county.pk}"
    assert sorted(m.to[0] for m in mail.outbox) == ["ck2@example.cn", "county@example.cn"]  # xs_admin has no address

    # Every later run inside the same window sends nothing.
    for hours in (1, 5, 20):
        assert services.send_deadline_reminders(now + hours * HOUR)["units"] == 0
    assert Notification.objects.count() == 3

    # 霞山区 confirms; a day before the deadline only 赤坎区's admins hear again.
    UnitLevel.objects.create(campaign=far, level=Level.objects.get(campaign=far, kind="county"),
                             unit=people.other_county, confirmed_at=now)
    assert services.send_deadline_reminders(county_day - 20 * HOUR)["units"] == 2
    assert {u.username: Notification.objects.filter(recipient=u).count()
            for u in (people.county_admin, people.second_county_admin, people.other_county_admin)} == {
        "ck_admin": 2, "ck_admin2": 2, "xs_admin": 1}
    latest = Notification.objects.filter(recipient=people.county_admin).order_by("-id").first()
    assert latest.body.startswith(f"{far.title}（县级初选）中，赤坎区的推荐上报、推荐汇总表确认将于 {when} 截止（剩 20 小时 0 分）。")
    assert services.send_deadline_reminders(county_day - 2 * HOUR)["units"] == 0
    assert services.send_deadline_reminders(county_day + HOUR)["units"] == 0  # passed: nothing to remind of


def test_a_unit_deadline_is_resolved_per_unit(people, far, now):
    """霞山区 has its own (earlier) deadline: only its admin is reminded, as deadlines_for says."""
    county = Level.objects.get(campaign=far, kind="county")
    DeadlineOverride.objects.create(level=county, unit=people.other_county, deadline=now + 12 * HOUR)
    assert [r.deadline for r in campaign_services.deadlines_for(far, people.other_county)
            if r.level.kind == "county"] == [now + 12 * HOUR]
    assert services.send_deadline_reminders(now)["units"] == 1
    assert sent() == [("xs_admin", f"霞山区：推荐上报将于 {local_text(now + 12 * HOUR)} 截止")]
    assert "请在截止前完成本级的推荐。" in Notification.objects.get().body


def test_a_moved_deadline_is_reminded_again(people, far, now):
    county = Level.objects.get(campaign=far, kind="county")
    override = DeadlineOverride.objects.create(level=county, unit=people.other_county, deadline=now + 12 * HOUR)
    services.send_deadline_reminders(now)
    override.deadline = now + 30 * HOUR  # reopened: a new deadline, a new reminder
    override.save()
    assert services.send_deadline_reminders(now + HOUR)["units"] == 1
    assert len(sent()) == 2


def test_units_that_file_a_contact_form_are_reminded_until_they_file_it(people, far, now):
    from contacts.models import ContactForm

    form_day = now + 2 * DAY
    set_level(far, "county", contact_form_deadline=form_day)
    county = Level.objects.get(campaign=far, kind="county")
    # 赤坎区 confirmed its summary table: the contact form is a separate duty
    UnitLevel.objects.create(campaign=far, level=county, unit=people.county, confirmed_at=now)
    assert services.send_deadline_reminders(now) == {"units": 0, "contact_forms": 3, "courses": 0}
    when = local_text(form_day)
    assert sent() == [("ck_admin", f"赤坎区：工作联系表将于 {when} 截止"), ("ck_admin2", f"赤坎区：工作联系表将于 {when} 截止"),
                      ("xs_admin", f"霞山区：工作联系表将于 {when} 截止")]  # not the city itself: it does not file
    n = Notification.objects.get(recipient=people.county_admin)
    assert n.body == (f"{far.title}中，赤坎区的工作联系表将于 {when} 截止（剩 2 天 0 小时），目前还没有填写。\n"
                      "请填写联系人（姓名、职务、手机、负责类别），上传加盖公章的扫描件，然后点击“保存并提交”。")
    assert n.link == f"/contacts/campaigns/{far.pk}/units/{people.county.pk}/"
    assert services.send_deadline_reminders(now + HOUR)["contact_forms"] == 0
    ContactForm.objects.create(campaign=far, unit=people.county, level=county, filed_at=now)
    ContactForm.objects.create(campaign=far, unit=people.other_county, level=county)  # saved, not filed
    assert services.send_deadline_reminders(form_day - 20 * HOUR)["contact_forms"] == 1
    assert "目前已填写但还没有提交" in Notification.objects.filter(recipient=people.other_county_admin).latest("id").body


def test_schools_with_courses_and_teachers_with_unsubmitted_courses(people, far, make_course, nodes, now):
    submitted = make_course(node=nodes[0], title="秋天")  # at the school, pending
    draft = make_course(node=nodes[1], title="小小的船", teacher=people.other_teacher, school=people.other_school,
                        submit=False)
    returned = make_course(node=nodes[2], title="江南")
    selection.decide(people.school_admin, entry_at(returned, "school").pk, "return", reason="补充课件")
    member(people.other_school, Role.ADMIN, username="xs_school_admin")  # his school holds nothing
    school_day = now + 30 * HOUR
    set_level(far, "school", deadline=school_day)
    Notification.objects.all().delete()

    assert services.send_deadline_reminders(now) == {"units": 1, "contact_forms": 0, "courses": 2}
    when = local_text(school_day)
    assert sent() == [("school_admin", f"湛江市第二十一小学：推荐上报将于 {when} 截止")]
    assert sent(Kind.DRAFT) == [("other_teacher", f"《小小的船》尚未提交，{when} 截止"),
                                ("teacher", f"《江南》尚未提交，{when} 截止")]
    assert Notification.objects.get(kind=Kind.DRAFT, recipient=people.teacher).body.startswith(
        "这门课程被退回修改后还没有重新提交")
    assert Notification.objects.get(kind=Kind.DRAFT, recipient=people.other_teacher).link == f"/courses/{draft.pk}/"
    assert not Notification.objects.filter(kind=Kind.DRAFT, link=f"/courses/{submitted.pk}/").exists()
    assert services.send_deadline_reminders(now + HOUR) == {"units": 0, "contact_forms": 0, "courses": 0}
    assert services.send_deadline_reminders(school_day - 23 * HOUR) == {"units": 1, "contact_forms": 0, "courses": 2}  # the 1-day window


def test_closed_campaigns_are_left_alone(people, far, now):
    set_level(far, "county", deadline=now + DAY)
    far.status = "closed"
    far.save()
    assert services.send_deadline_reminders(now) == {"units": 0, "contact_forms": 0, "courses": 0}


def test_the_task_is_registered_hourly_and_runs(people, far, now):
    from notifications.tasks import send_reminders

    assert ("notifications.tasks.send_reminders", 3600) in periodic.REGISTRY
    set_level(far, "county", deadline=timezone.now() + DAY)
    result = send_reminders.enqueue()
    assert result.return_value == {"units": 3, "contact_forms": 0, "courses": 0, "review": 0,
                                   "emails": {"sent": 0, "failed": 0}}
    assert send_reminders.enqueue().return_value["units"] == 0
