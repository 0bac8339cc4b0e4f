"""Who sees which match, and what of the other course: the admins of the levels the copying course
reached, the experts reviewing it (blind), the teacher only for his own earlier work; the list, the
match page with passages and segments side by side, and the badges."""

import pytest
from django.urls import reverse

from courses.models import Course, Period, Resource
from originality import services
from originality.models import Match
from originality.tests.test_services import stored
from originality.tests.test_text import LESSON
from selection import services as selection_services
from selection.models import Entry

pytestmark = pytest.mark.django_db

OTHER_NAME = "王原创"


def course_with(campaign, node, teacher, school, stored_file, *, title, slot="lesson_plan", submit=True):
    course = Course.objects.create(campaign=campaign, category="subject", node=node, title=title, lead_teacher=teacher,
                                   school=school, periods_count=1, status="submitted" if submit else "draft")
    period = Period.objects.create(course=course, number=1)
    Resource.objects.create(period=period, slot_kind=slot, file=stored_file, status="pass")
    if submit:
        selection_services.enter(teacher, course)
    return course


@pytest.fixture
def copied(tree, campaign, nodes):
    """霞山区's teacher wrote the lesson plan; a teacher of 赤坎区's school pasted it into his own."""
    tree.other_teacher.real_name = OTHER_NAME
    tree.other_teacher.save(update_fields=["real_name"])
    original_file = stored(tree.other_teacher, b"orig", "docx", LESSON, name="秋天的雨 教学设计.docx")
    original = course_with(campaign, nodes[0], tree.other_teacher, tree.other_school, original_file, title="秋天的雨")
    services.check_file(original_file.pk)
    copy_file = stored(tree.teacher, b"copy", "docx", "学情分析：学生喜欢秋天。" + LESSON, name="我的教学设计.docx")
    copy = course_with(campaign, nodes[0], tree.teacher, tree.school, copy_file, title="秋雨")
    services.check_file(copy_file.pk)
    match = Match.objects.get(new_file=copy_file)
    return original, copy, match


def reach(course, kind, unit):
    level = course.campaign.levels.get(kind=kind)
    return Entry.objects.create(course=course, level=level, unit=unit, node=course.node)


def get(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_the_school_admin_sees_the_match_and_the_other_course_only_by_year_level_and_node(client, tree, copied):
    original, copy, match = copied
    page = get(client, tree.school_admin, reverse("originality:list")).content.decode()
    assert reverse("originality:match", args=[match.pk]) in page
    assert copy.title in page
    for hidden in (original.title, OTHER_NAME, tree.other_school.name, "秋天的雨 教学设计"):
        assert hidden not in page
    label = f"{original.campaign.year} 年 · 学校推荐 · {original.node.textbook.label} · 第一单元 › 第1课"
    assert label in page
    detail = get(client, tree.school_admin, reverse("originality:match", args=[match.pk])).content.decode()
    assert label in detail and OTHER_NAME not in detail and "秋天的雨 教学设计" not in detail
    assert "<mark>" in detail and "秋天的雨，是一把钥匙" in detail  # the passages, side by side
    assert "学情分析：学生喜欢秋天。" in detail  # context around the copy's own passages …
    assert "只显示重合的文字本身" in detail  # … but none around another unit's document
    assert detail.count('class="passage"') == 2 * len(match.details["passages"])


def test_a_higher_admin_sees_it_once_the_course_reaches_his_level(client, tree, copied):
    original, copy, match = copied
    url = reverse("originality:match", args=[match.pk])
    for admin in (tree.county_admin, tree.city_admin, tree.other_county_admin):
        assert get(client, admin, url).status_code == 404
        assert "no-matches" in get(client, admin, reverse("originality:list")).content.decode()
    reach(copy, "county", tree.county)
    assert get(client, tree.county_admin, url).status_code == 200
    assert get(client, tree.city_admin, url).status_code == 404
    reach(copy, "city", tree.city)
    page = get(client, tree.city_admin, url).content.decode()
    # Both courses are within the city: both are named.
    assert original.title in page and OTHER_NAME in page and tree.other_school.name in page
    assert get(client, tree.other_county_admin, url).status_code == 404  # 霞山区: the copy never reached it


def test_teachers_see_nothing_about_other_teachers_courses(client, tree, copied):
    _original, copy, match = copied
    url = reverse("originality:match", args=[match.pk])
    for teacher in (tree.teacher, tree.other_teacher):
        assert get(client, teacher, url).status_code == 404
        assert "no-matches" in get(client, teacher, reverse("originality:list")).content.decode()
    page = get(client, tree.teacher, reverse("courses:detail", args=[copy.pk])).content.decode()
    assert "originality-badge" not in page
    assert get(client, tree.expert, reverse("originality:list")).status_code == 403


def test_the_same_teachers_resubmission_is_information_for_him_not_a_case_for_the_admins(
        client, tree, campaign, nodes):
    first = stored(tree.teacher, b"v1", "docx", LESSON, name="第一稿.docx")
    course = course_with(campaign, nodes[0], tree.teacher, tree.school, first, title="秋天的雨")
    services.check_file(first.pk)
    # The school returns it; the teacher replaces his lesson plan with a revised version and resubmits.
    entry = Entry.objects.get(course=course)
    selection_services.decide(tree.school_admin, entry.pk, "return", reason="请补充板书设计")
    revised = stored(tree.teacher, b"v2", "docx", LESSON + "板书设计：秋天的雨（钥匙、颜料、香味、歌）", name="修改稿.docx")
    Resource.objects.filter(period__course=course).update(file=revised, previous_file=first)
    services.check_file(revised.pk)
    match = Match.objects.get(new_file=revised)
    assert match.same_owner is True
    assert not services.matches_for(tree.school_admin).exists()
    assert get(client, tree.school_admin, reverse("originality:match", args=[match.pk])).status_code == 404
    page = get(client, tree.teacher, reverse("originality:match", args=[match.pk])).content.decode()
    assert "这是您本人此前上传的文件" in page
    assert "本人此前的作品" in get(client, tree.teacher, reverse("originality:list")).content.decode()


def test_a_team_members_earlier_version_of_the_same_course_is_reuse(tree, campaign, nodes):
    from orgs.models import Role
    from orgs.tests.factories import member

    colleague = member(tree.school, Role.TEACHER, username="colleague")
    first = stored(colleague, b"v1", "docx", LESSON, name="a")
    course = course_with(campaign, nodes[0], tree.teacher, tree.school, first, title="秋天的雨")
    services.check_file(first.pk)
    revised = stored(tree.teacher, b"v2", "docx", LESSON + "（修改）", name="b")
    Resource.objects.filter(period__course=course).update(file=revised, previous_file=first)
    services.check_file(revised.pk)
    assert Match.objects.get(new_file=revised).same_owner is True


def test_video_segments_are_shown_side_by_side_with_durations(client, tree, copied):
    original, copy, _m = copied
    a = stored(tree.other_teacher, b"va", "mp4", name="a.mp4")
    b = stored(tree.teacher, b"vb", "mp4", name="b.mp4")
    Resource.objects.create(period=original.periods.get(), slot_kind="video", file=a)
    Resource.objects.create(period=copy.periods.get(), slot_kind="video", file=b)
    match = Match.objects.create(new_file=b, earlier_file=a, kind="video", similarity=0.97, details={
        "matched_seconds": 595.0, "segments": [[5.0, 300.0, 23.0, 318.0], [310.0, 610.0, 330.0, 630.0]]})
    page = get(client, tree.school_admin, reverse("originality:match", args=[match.pk])).content.decode()
    assert page.count('class="segment"') == 2
    assert "00:05–05:00" in page and "00:23–05:18" in page and "4 分 55 秒" in page
    assert "05:10–10:10" in page and "05:30–10:30" in page and "5 分 00 秒" in page
    assert "97%" in page


def test_the_list_is_newest_first_paginated_with_a_pinned_query_count(client, tree, campaign, nodes,
                                                                     django_assert_max_num_queries):
    base = stored(tree.other_teacher, b"base", "docx", LESSON, name="base")
    course_with(campaign, nodes[0], tree.other_teacher, tree.other_school, base, title="原课")
    made = []
    for i in range(25):
        f = stored(tree.teacher, f"c{i}".encode(), "docx", LESSON, name=f"c{i}")
        course_with(campaign, nodes[1], tree.teacher, tree.school, f, title=f"复制{i}")
        made.append(Match.objects.create(new_file=f, earlier_file=base, kind="text", similarity=0.9,
                                         details={"passages": []}))
    client.force_login(tree.school_admin)
    client.get(reverse("originality:list"))  # warm the session
    with django_assert_max_num_queries(12):
        page = client.get(reverse("originality:list")).content.decode()
    assert page.count("复制") == 20 and "复制24" in page and "复制4<" not in page
    assert page.index("复制24") < page.index("复制23")  # newest first
    assert "复制4<" in client.get(reverse("originality:list") + "?page=2").content.decode()


def test_badges_on_the_course_page_and_the_entry_page(client, tree, copied):
    _original, copy, match = copied
    page = get(client, tree.school_admin, reverse("courses:detail", args=[copy.pk])).content.decode()
    assert "originality-badge" in page and f"{reverse('originality:list')}?course={copy.pk}" in page
    entry = Entry.objects.get(course=copy)
    page = get(client, tree.school_admin, reverse("selection:entry", args=[entry.pk])).content.decode()
    assert "originality-badge" in page
    listing = get(client, tree.school_admin, f"{reverse('originality:list')}?course={copy.pk}").content.decode()
    assert reverse("originality:match", args=[match.pk]) in listing


def test_the_expert_sees_a_blind_hint_next_to_the_veto(client, tree, campaign, nodes, county_round, pool):
    from review.models import Assignment

    original_file = stored(tree.other_teacher, b"orig", "docx", LESSON, name="原稿.docx")
    course_with(campaign, nodes[0], tree.other_teacher, tree.other_school, original_file, title="秋天的雨")
    services.check_file(original_file.pk)
    entry = county_round.round_entries.order_by("code").first()
    copy_file = stored(tree.teacher, b"copy", "docx", "前言。" + LESSON, name="我的设计.docx")
    Resource.objects.create(period=Period.objects.create(course=entry.entry.course, number=1), slot_kind="lesson_plan",
                            file=copy_file)
    services.check_file(copy_file.pk)
    match = Match.objects.get(new_file=copy_file)
    a = Assignment.objects.create(round=county_round, entry=entry, expert=pool[0], state="assigned")
    county_round.status = "published"
    county_round.save(update_fields=["status"])
    page = get(client, pool[0], reverse("review:score", args=[a.pk])).content.decode()
    blind_url = reverse("originality:blind", args=[a.pk, match.pk])
    assert "originality-hint" in page and blind_url in page
    page = client.get(blind_url).content.decode()
    assert entry.code in page and "<mark>" in page
    for hidden in ("秋天的雨<", tree.other_teacher.display_name, tree.other_school.name, "原稿", "我的设计",
                   tree.teacher.display_name, tree.school.name):
        assert hidden not in page
    assert client.get(reverse("originality:match", args=[match.pk])).status_code == 404  # not the named page
    other = Assignment.objects.create(round=county_round, entry=county_round.round_entries.order_by("code").last(),
                                      expert=pool[1], state="assigned")
    client.force_login(pool[1])
    assert client.get(reverse("originality:blind", args=[other.pk, match.pk])).status_code == 404
    assert client.get(blind_url).status_code == 404


def test_the_desk_marks_the_entries_with_matches(client, tree, copied, campaign):
    _original, copy, _match = copied
    page = get(client, tree.school_admin, reverse("selection:list") + f"?campaign={campaign.pk}").content.decode()
    assert page.count("originality-badge") == 1 and f"?course={copy.pk}" in page


def _counts_through_matches_for(user, course_ids):
    """The badge counts as ``matches_for`` defines them: its matches, grouped by the new file's courses."""
    counts = {}
    for match in services.matches_for(user):
        for course_id in set(Resource.objects.filter(file=match.new_file).values_list("period__course", flat=True)):
            if course_id in course_ids:
                counts[course_id] = counts.get(course_id, 0) + 1
    return counts


def test_badge_counts_are_the_matches_each_viewer_may_see(tree, campaign, nodes, copied,
                                                          django_assert_max_num_queries):
    """``counts_by_course`` starts from the courses asked for (not from every match the viewer may
    see) and counts exactly what ``matches_for`` shows: across viewers, a teacher's re-use of his own
    earlier file (same owner), and a file held by two courses, one of them out of the viewer's sight."""
    original, copy, _match = copied
    own_file = stored(tree.teacher, b"own", "docx", LESSON, name="旧教案.docx")
    course_with(campaign, nodes[1], tree.teacher, tree.school, own_file, title="旧课")
    services.check_file(own_file.pk)
    again = stored(tree.teacher, b"again", "docx", LESSON, name="新教案.docx")
    reuse = course_with(campaign, nodes[2], tree.teacher, tree.school, again, title="新课")
    services.check_file(again.pk)
    # The copied file also sits in a draft of 霞山区 (never submitted): its matches stay visible to
    # 赤坎区 through the copy, and the draft's own count follows the same rule.
    draft = course_with(campaign, nodes[3], tree.other_teacher, tree.other_school, copy.periods.get().resources.get().file,
                        title="草稿", submit=False)
    assert Match.objects.count() >= 3
    course_ids = [original.pk, copy.pk, reuse.pk, draft.pk]
    for user in (tree.school_admin, tree.county_admin, tree.city_admin, tree.other_county_admin, tree.teacher,
                 tree.other_teacher, tree.sysadmin, tree.expert):
        expected = _counts_through_matches_for(user, set(course_ids))
        with django_assert_max_num_queries(2):  # the admin units, then one query
            assert services.counts_by_course(user, course_ids) == expected, user.username
    assert services.counts_by_course(tree.school_admin, []) == {}
    assert services.counts_by_course(tree.school_admin, [copy.pk])[copy.pk] >= 1
