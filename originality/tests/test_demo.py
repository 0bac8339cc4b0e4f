"""The demo holds one copied course, checked while the demo loads: 霞山区第一小学's 《弯弯的月儿小小的船》
re-titles and trims 李晓梅's 《小小的船》 video (赤坎区) and pastes her lesson plan. 霞山区's admin sees the
match (the other course by year, level and node only); nobody else does."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from orgs.models import User
from originality import services
from originality.models import Match

pytestmark = pytest.mark.slow


def login(page, username):
    from orgs.demo import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def _load():
    call_command("load_demo", stdout=io.StringIO())
    return {m.kind: m for m in Match.objects.select_related("new_file", "earlier_file")}


def test_the_demo_holds_a_copied_course_with_its_matches(db, client):
    matches = _load()
    assert sorted(matches) == ["text", "video"]  # nothing else in the demo looks copied
    video, text = matches["video"], matches["text"]
    assert (video.new_file.original_name, video.earlier_file.original_name) == ("弯弯的月儿小小的船.mp4", "小小的船.mp4")
    assert video.details["segments"] == [[5.0, 594.0, 21.0, 610.0]] and video.similarity > 0.95
    assert text.earlier_file.original_name == "《小小的船》教学设计.docx" and text.similarity > 0.7
    users = {u.username: u for u in User.objects.all()}
    assert set(services.matches_for(users["xs_admin"])) == {video, text}
    for name in ("ck_admin", "zj_admin", "teacher_li", "teacher_xs_chinese", "ck21x_admin"):
        assert not services.matches_for(users[name]).exists(), name
    client.force_login(users["xs_admin"])
    page = client.get(reverse("originality:match", args=[video.pk])).content.decode()
    assert "弯弯的月儿小小的船" in page and "李晓梅" not in page and "湛江市第二十一小学" not in page
    assert "2024 年 · 学校推荐 · " in page


@pytest.mark.browser
def test_the_admin_sees_the_matched_segments_side_by_side(transactional_db, browser_page, screenshot_dir):
    matches = _load()
    page = browser_page
    login(page, "xs_admin")
    page.goto(reverse("originality:list"))
    assert page.locator("#matches tbody tr").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(screenshot_dir / "originality-list.png"), full_page=True)
    page.goto(reverse("originality:match", args=[matches["video"].pk]))
    rows = page.locator("#segments tr.segment")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t") == ["00:05–09:54 （9 分 49 秒）", "00:21–10:10 （9 分 49 秒）"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # both columns fit a phone
    assert page.locator("#similarity").inner_text().startswith("97%")
    page.screenshot(path=str(screenshot_dir / "originality-video-match.png"), full_page=True)
    page.goto(reverse("originality:match", args=[matches["text"].pk]))
    assert page.locator("#passages .passage-pair").count() >= 1
    assert page.locator("#passages mark").first.inner_text().startswith("教学目标")
    page.screenshot(path=str(screenshot_dir / "originality-text-match.png"), full_page=True)
