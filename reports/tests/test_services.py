"""Each section's numbers against the hand-built campaign of conftest.py (``story``), for the county
(赤坎区) and the city (湛江市); scope; a fixed number of queries per section."""

import pytest
from django.http import Http404

from campaigns.models import Level
from courses.models import Course
from reports import services
from selection.models import Entry

pytestmark = pytest.mark.django_db


def rows(actor, key, unit=None):
    scope = services.get_scope(actor, None, unit)
    assert unit is None or scope.unit.pk == unit
    return services.section(actor, scope.campaign, scope.unit, key).rows


# --- entries ------------------------------------------------------------------------------------------
def test_units_county_counts_its_schools_entries_by_state(story, tree):
    # 待处理 A; 已推荐 B, C; 未推荐 D.
    assert rows(tree.county_admin, "units") == [["湛江市第二十一小学", 1, 0, 2, 1, 4]]


def test_units_city_counts_each_county_and_city_school(story, tree):
    assert rows(tree.city_admin, "units") == [
        ["赤坎区", 1, 0, 1, 0, 2],  # B pending, C recommended
        ["霞山区", 1, 0, 0, 0, 1],  # E pending
        ["湛江市第一中学", 0, 0, 0, 0, 0],
    ]


def test_by_category_county(story, tree):
    # declared in the county: A, B (subject), D (special), C (experiment); received: B, C; C recommended, awarded.
    assert rows(tree.county_admin, "category") == [
        ["学科课程", 2, 1, 0, 0], ["特殊教育", 1, 0, 0, 0], ["实验教学", 1, 1, 1, 1]]


def test_by_category_city_counts_the_whole_city(story, tree):
    # E (霞山区) is declared in the city too; the city itself has received only C.
    assert rows(tree.city_admin, "category") == [
        ["学科课程", 3, 0, 0, 0], ["特殊教育", 1, 0, 0, 0], ["实验教学", 1, 1, 0, 0]]


def test_by_stage_and_subject_county(story, tree):
    assert rows(tree.county_admin, "stage") == [["小学", 3, 1, 0, 0], ["初中", 1, 1, 1, 1]]
    assert rows(tree.county_admin, "subject") == [
        ["数学", 1, 1, 0, 0], ["物理", 1, 1, 1, 1], ["语文", 2, 0, 0, 0]]


# --- quotas and deadlines ------------------------------------------------------------------------------
def test_progress_city_shows_quota_use_and_deadline(story, tree, campaign):
    deadline = campaign.levels.get(kind="county").deadline
    from selection.rules import local_text

    got = rows(tree.city_admin, "progress")
    # 赤坎区: 1 实验教学 of 10 recommended; quotas 25 + 1 + 10; B still pending.
    assert got[0] == ["赤坎区", "县级初选", "0/25", "0/1", "1/10", 1, 36, 1, local_text(deadline), got[0][9], "未确认"]
    assert got[0][9].startswith("剩 ")
    assert got[1][:8] == ["霞山区", "县级初选", "0/25", "0/1", "0/10", 0, 36, 1]
    # A city-owned school has per-subject quotas only: no total.
    assert got[2][:8] == ["湛江市第一中学", "学校推荐", "0（不限）", "0（不限）", "0（不限）", 0, None, 0]


def test_progress_shows_a_confirmed_unit(story, tree, campaign):
    from selection import services as selection_services

    selection_services.decide(tree.county_admin, Entry.objects.get(course=story.b, level__kind="county").pk,
                              "decline", reason="名额有限")
    selection_services.confirm(tree.county_admin, campaign, "county", tree.county)
    assert rows(tree.city_admin, "progress")[0][-1] == "已确认"


# --- checks, review, awards ----------------------------------------------------------------------------
def test_checks_county_counts_failures_by_reason(story, tree):
    # A: 分辨率 ✗, 帧率 !; B: 分辨率 ✗, 时长 ✗, slides: PDF 无文字 !. E (霞山区) is not the county's.
    assert rows(tree.county_admin, "checks") == [
        ["分辨率", 2, 0, 2], ["时长", 1, 0, 1], ["PDF 无文字（扫描件）", 0, 1, 1], ["帧率", 0, 1, 1]]


def test_checks_city_includes_every_county(story, tree):
    assert rows(tree.city_admin, "checks")[:2] == [["分辨率", 2, 0, 2], ["时长", 2, 0, 2]]


def test_checks_count_a_rule_once_per_file_and_courses_once(story, tree, campaign, nodes):
    """Counted in the database (the findings unnested per vendor): a rule listed twice in one file
    counts that file once; a course with two failing files counts once; findings that are no
    list, list items that are no finding, and passing findings are left out; a rule without our
    label keeps the finding's own."""
    from reports.tests.conftest import _course, _finding, _resource

    c = _course(campaign, tree, nodes[5], "subject", tree.school, tree.teacher, "C2")
    _resource(c, "video", "fail", [_finding("duration", "fail", "时长"), _finding("duration", "fail", "时长"),
                                   _finding("odd", "warn", "奇怪的问题"), _finding("fps", "pass", "帧率"), "x"])
    _resource(c, "lesson_plan", "fail", [_finding("duration", "fail", "时长")])
    _resource(c, "slides", "warn", "not a list")
    _resource(c, "exercises", "warn", {"rule": "fps"})
    assert rows(tree.county_admin, "checks") == [
        ["时长", 3, 0, 2], ["分辨率", 2, 0, 2], ["PDF 无文字（扫描件）", 0, 1, 1], ["奇怪的问题", 0, 1, 1], ["帧率", 0, 1, 1]]


def test_checks_ignore_drafts(story, tree, campaign, nodes):
    from reports.tests.conftest import _finding, _resource

    draft = Course.objects.create(campaign=campaign, category="subject", node=nodes[2], title="草稿",
                                  lead_teacher=tree.teacher, school=tree.school, status="draft")
    _resource(draft, "video", "fail", [_finding("aspect", "fail", "画面比例")])
    assert [r[0] for r in rows(tree.county_admin, "checks")] == ["分辨率", "时长", "PDF 无文字（扫描件）", "帧率"]


def test_review_progress_counts_submitted_sheets_of_published_assignments(story, tree):
    got = rows(tree.county_admin, "review")
    assert [r[:10] for r in got] == [["赤坎区初选", "赤坎区", "学科课程", "评审中", 2, 3, 2, 1, 0, 66.7]]


def test_review_progress_city_sees_both_counties_rounds(story, tree):
    assert [r[4:10] for r in rows(tree.city_admin, "review")] == [[2, 3, 2, 1, 0, 66.7], [1, 1, 0, 0, 1, 0.0]]


def test_awards_by_level_category_subject(story, tree):
    assert rows(tree.county_admin, "awards") == [["县级精品课", "实验教学", "物理", 1]]
    assert rows(tree.city_admin, "awards") == [["县级精品课", "实验教学", "物理", 1]]
    assert rows(tree.other_county_admin, "awards") == []


# --- special-ed shares against the cap -----------------------------------------------------------------
@pytest.fixture
def city_special(campaign, tree, nodes):
    """Special-education courses the city has awarded 市级精品课: 语文, 数学, 物理 (2 of 3 inside
    the cap's subjects 语文+数学+生活适应, cap 80 %)."""
    city = Level.objects.get(campaign=campaign, kind="city")

    def award(node, title):
        course = Course.objects.create(campaign=campaign, category="special", node=node, title=title,
                                       lead_teacher=tree.teacher, school=tree.city_school, status="submitted")
        return Entry.objects.create(course=course, level=city, unit=tree.city, from_unit=tree.city_school, node=node,
                                    state="recommended", awarded=True)

    return [award(nodes[0], "S1"), award(nodes[3], "S2"), award(nodes[6], "S3")]


def test_shares_against_the_cap(story, tree, city_special):
    assert rows(tree.city_admin, "shares") == [
        ["湛江市 · 特殊教育", "语文+数学+生活适应", "本级评定（如市级精品课）", 2, 3, 66.7, 80, "符合"]]


def test_shares_over_the_cap(story, tree, city_special):
    Entry.objects.filter(pk=city_special[2].pk).update(awarded=False)  # 2 of 2 inside: 100 %
    assert rows(tree.city_admin, "shares")[0][3:] == [2, 2, 100.0, 80, "超出上限"]


def test_shares_of_child_cities_on_the_province_board(story, tree, city_special):
    # The province sees the city's cap among its children's.
    assert [r[0] for r in rows(tree.province_admin, "shares")] == ["湛江市 · 特殊教育"]


def test_special_subject_shares(story, tree, city_special):
    # Subjects the cap counts first; shares of the recommended and of the awarded.
    assert rows(tree.city_admin, "special") == [
        ["数学", 1, 33.3, 1, 33.3, "是"], ["语文", 1, 33.3, 1, 33.3, "是"], ["物理", 1, 33.3, 1, 33.3, "否"]]
    Entry.objects.filter(pk=city_special[2].pk).update(awarded=False)
    assert rows(tree.city_admin, "special")[2] == ["物理", 1, 33.3, 0, 0.0, "否"]
    assert rows(tree.city_admin, "special")[0] == ["数学", 1, 33.3, 1, 50.0, "是"]


def test_special_subject_shares_leave_out_other_categories_and_pending(story, tree, city_special):
    Entry.objects.filter(pk=city_special[0].pk).update(state="pending", awarded=False)
    assert [r[0] for r in rows(tree.city_admin, "special")] == ["数学", "物理"]
    assert rows(tree.county_admin, "special") == []  # C (实验教学) is the county's only recommendation


def test_shares_empty_where_no_cap_applies(story, tree):
    assert rows(tree.county_admin, "shares") == []


# --- scope ------------------------------------------------------------------------------------------
def test_default_scope_is_the_admins_own_unit(story, tree, campaign):
    scope = services.get_scope(tree.county_admin)
    assert (scope.campaign, scope.unit) == (campaign, tree.county)


def test_county_admin_cannot_open_the_other_county(story, tree, campaign):
    with pytest.raises(Http404):
        services.get_scope(tree.county_admin, campaign.pk, tree.other_county.pk)
    with pytest.raises(Http404):
        services.get_scope(tree.county_admin, campaign.pk, tree.city.pk)


def test_city_admin_may_open_a_county(story, tree, campaign):
    scope = services.get_scope(tree.city_admin, campaign.pk, tree.county.pk)
    assert scope.unit == tree.county
    assert services.section(tree.city_admin, campaign, tree.county, "units").rows == [
        ["湛江市第二十一小学", 1, 0, 2, 1, 4]]
    # Only the county's area, though the city admin may see the whole city: E (霞山区) is left out.
    assert rows(tree.city_admin, "category", tree.county.pk) == rows(tree.county_admin, "category")
    assert rows(tree.city_admin, "checks", tree.county.pk) == rows(tree.county_admin, "checks")
    assert rows(tree.city_admin, "review", tree.county.pk) == rows(tree.county_admin, "review")
    assert rows(tree.other_county_admin, "category") == [["学科课程", 1, 1, 0, 0]]


@pytest.mark.parametrize("who", ["teacher", "school_admin", "expert"])
def test_no_dashboard_for_teachers_school_admins_experts(story, tree, campaign, who):
    with pytest.raises(Http404):
        services.get_scope(getattr(tree, who))
    with pytest.raises(Http404):
        services.get_scope(getattr(tree, who), campaign.pk)


def test_unknown_campaign_or_section(story, tree, campaign):
    with pytest.raises(Http404):
        services.get_scope(tree.city_admin, 99999)
    with pytest.raises(Http404):
        services.section(tree.city_admin, campaign, tree.city, "nope")


# --- queries ------------------------------------------------------------------------------------------
# Measured on the story (the memberships' query included); they do not grow with the data.
# units/progress/shares: the progress board counts in SQL (counts, the recommended by subject, node
# conflicts: 3 GROUP BY; the subjects held when a quota counts subjects, as Zhanjiang's does).
MAX_QUERIES = {"units": 11, "category": 4, "stage": 4, "subject": 4, "progress": 12, "checks": 2, "review": 2,
               "awards": 3, "shares": 14, "special": 3}


@pytest.mark.parametrize("key", services.SECTION_KEYS)
def test_each_section_makes_a_fixed_number_of_queries(story, tree, campaign, city_special, nodes, key,
                                                       django_assert_max_num_queries):
    from reports.tests.conftest import _course

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        actor = type(tree.city_admin).objects.get(pk=tree.city_admin.pk)  # fresh membership cache
        with CaptureQueriesContext(connection) as ctx:
            services.section(actor, campaign, tree.city, key)
        return len(ctx.captured_queries)

    before = count()
    for i in range(4):  # more courses, schools' entries and files: the same number of queries
        _course(campaign, tree, nodes[i % 9], "subject", tree.other_school, tree.other_teacher, f"more{i}")
    assert count() == before
    actor = type(tree.city_admin).objects.get(pk=tree.city_admin.pk)
    with django_assert_max_num_queries(MAX_QUERIES[key]):
        services.section(actor, campaign, tree.city, key)


def test_the_dashboard_permission():
    from orgs.tests.factories import UserFactory

    assert UserFactory().has_perm("reports.view_dashboard") is False


@pytest.mark.parametrize("who,allowed", [("county_admin", True), ("city_admin", True), ("province_admin", True),
                                         ("sysadmin", True), ("school_admin", False), ("teacher", False),
                                         ("expert", False)])
def test_who_has_a_dashboard(tree, who, allowed):
    assert getattr(tree, who).has_perm("reports.view_dashboard") is allowed
