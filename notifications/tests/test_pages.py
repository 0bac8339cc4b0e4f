"""The bell in the top bar, the list of notifications, and the progress board's one-click reminder."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Level
from notifications import services
from notifications.models import Kind, Notification
from selection.models import UnitLevel

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def make(user, n, **kwargs):
    return [services.notify([user], kwargs.get("kind", Kind.REMIND), f"通知{i}", f"内容{i}",
                            link=kwargs.get("link", "/courses/"))[0] for i in range(n)]


def test_the_bell_shows_the_unread_count_with_one_query(client, tree):
    make(tree.teacher, 2)
    mine_read = make(tree.teacher, 1)[0]
    services.mark_read(tree.teacher, mine_read.pk)
    make(tree.other_teacher, 5)  # someone else's
    client.force_login(tree.teacher)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert len([q for q in queries if "notifications_notification" in q["sql"]]) == 1
    bell = re.search(r'<a class="bell[^"]*" id="bell".*?</a>', html, re.S).group(0)
    assert 'class="bell has-unread"' in bell and 'aria-label="通知（2 条未读）"' in bell
    assert '<span class="bell-count">2</span>' in bell and 'href="/notifications/"' in bell


def test_no_count_without_unread_and_no_bell_when_logged_out(client, tree):
    client.force_login(tree.teacher)
    html = client.get("/").content.decode()
    assert 'id="bell"' in html and "bell-count" not in html and 'aria-label="通知"' in html
    client.logout()
    assert 'id="bell"' not in client.get("/accounts/login/").content.decode()


def test_many_unread_show_as_99_plus(client, tree):
    Notification.objects.bulk_create([Notification(recipient=tree.teacher, kind=Kind.REMIND, title="x")
                                      for _ in range(120)])
    client.force_login(tree.teacher)
    assert '<span class="bell-count">99+</span>' in client.get("/").content.decode()


def test_the_list_shows_unread_first_and_marks_read(client, tree, django_assert_max_num_queries):
    old, new = make(tree.teacher, 2)
    services.mark_read(tree.teacher, new.pk)
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(8):
        response = client.get("/notifications/")
    assert [n.title for n in response.context["page_obj"]] == ["通知0", "通知1"]  # unread first, then newest
    html = response.content.decode()
    assert f'id="notification-{old.pk}"' in html and "标为已读" in html and "全部标为已读" in html
    assert html.count(">打开推荐列表</a>") == 2  # the button names where the link goes
    assert html.count(">标为已读</button>") == 1  # only the unread one
    response = client.post(f"/notifications/{old.pk}/read/", {"next": "/notifications/?unread=1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?unread=1"
    assert Notification.objects.get(pk=old.pk).read_at is not None
    assert list(client.get("/notifications/?unread=1").context["page_obj"]) == []
    assert "没有未读通知。" in client.get("/notifications/?unread=1").content.decode()


def test_the_list_keeps_its_query_count_with_many_notifications(client, tree, django_assert_max_num_queries):
    make(tree.teacher, 45)
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(8):
        response = client.get("/notifications/?page=2")
    assert len(response.context["page_obj"]) == 20
    assert "第 2 / 3 页，共 45 条" in response.content.decode()


def test_mark_all_read(client, tree):
    make(tree.teacher, 3)
    make(tree.other_teacher, 1)
    client.force_login(tree.teacher)
    response = client.post("/notifications/read-all/", follow=True)
    assert messages_of(response) == ["已将 3 条通知标为已读。"]
    assert services.unread_count(tree.teacher) == 0 and services.unread_count(tree.other_teacher) == 1


def test_following_a_notification_marks_it_read_and_opens_its_page(client, tree):
    n = make(tree.teacher, 1, link="/courses/")[0]
    client.force_login(tree.teacher)
    response = client.get(f"/notifications/{n.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/courses/")
    assert Notification.objects.get(pk=n.pk).read_at is not None
    external = services.notify([tree.teacher], Kind.REMIND, "x", "y", link="https://evil.example/")[0]
    assert client.get(f"/notifications/{external.pk}/")["Location"] == "/notifications/"


def test_nobody_reads_anothers_notifications(client, tree):
    theirs = make(tree.other_teacher, 1)[0]
    client.force_login(tree.teacher)
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    client.logout()
    assert client.get("/notifications/")["Location"].startswith("/accounts/login/")


# --- the progress board's button -------------------------------------------------------------------
def test_the_progress_board_offers_the_reminder_to_the_units_own_admin(client, people, campaign, course):
    client.force_login(people.county_admin)
    html = client.get(f"/selection/campaigns/{campaign.pk}/progress/").content.decode()
    form = re.search(r'<form[^>]*id="remind-behind".*?</form>', html, re.S).group(0)
    assert 'action="/notifications/remind/"' in form
    assert 'data-confirm="向 1 个未完成的单位的管理员发送提醒吗？每个单位 1 小时内只提醒一次。"' in form
    assert f'name="unit" value="{people.county.pk}"' in form and "一键提醒未完成单位" in form
    # The city admin looking at the county's board: the county's job, no button.
    client.force_login(people.city_admin)
    html = client.get(f"/selection/campaigns/{campaign.pk}/progress/?unit={people.county.pk}").content.decode()
    assert "一键提醒未完成单位" not in html
    assert "一键提醒未完成单位" in client.get(f"/selection/campaigns/{campaign.pk}/progress/").content.decode()


def test_no_button_when_every_child_is_done(client, people, campaign):
    level = Level.objects.get(campaign=campaign, kind="school")
    UnitLevel.objects.create(campaign=campaign, level=level, unit=people.school, confirmed_at="2024-09-01T00:00+08:00")
    client.force_login(people.county_admin)
    assert "一键提醒未完成单位" not in client.get(f"/selection/campaigns/{campaign.pk}/progress/").content.decode()


def test_pressing_the_button(client, people, campaign, course):
    client.force_login(people.county_admin)
    board = f"/selection/campaigns/{campaign.pk}/progress/"
    response = client.post("/notifications/remind/", {"campaign": campaign.pk, "unit": people.county.pk,
                                                      "next": board}, follow=True)
    assert response.redirect_chain[-1][0] == board
    assert messages_of(response) == ["已提醒 1 个单位。"]
    assert Notification.objects.filter(kind=Kind.REMIND, recipient=people.school_admin).count() == 1
    response = client.post("/notifications/remind/", {"campaign": campaign.pk, "unit": people.county.pk,
                                                      "next": board}, follow=True)
    assert len(messages_of(response)) == 1 and messages_of(response)[0].startswith("已于 ")
    assert "提醒过湛江市第二十一小学，1 小时内不重复提醒" in messages_of(response)[0]
    assert Notification.objects.filter(kind=Kind.REMIND).count() == 1


def test_the_city_sees_which_units_were_skipped(client, people, campaign, course):
    client.force_login(people.city_admin)
    response = client.post("/notifications/remind/", {"campaign": campaign.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/selection/campaigns/{campaign.pk}/progress/"
    assert messages_of(response) == ["已提醒 2 个单位。",
                                     "湛江市第一中学还没有管理员账号，无法提醒。请先在“单位”页面为它添加管理员。"]


def test_the_button_is_scoped(client, people, campaign, course):
    client.force_login(people.city_admin)
    assert client.post("/notifications/remind/", {"campaign": campaign.pk, "unit": people.county.pk}).status_code == 403
    client.force_login(people.other_county_admin)
    assert client.post("/notifications/remind/", {"campaign": campaign.pk, "unit": people.county.pk}).status_code == 404
    assert client.post("/notifications/remind/", {"campaign": "x"}).status_code == 404
    assert client.get("/notifications/remind/").status_code == 405
    assert not Notification.objects.filter(kind=Kind.REMIND).exists()
