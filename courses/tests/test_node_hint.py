"""The node picker tells a teacher how many courses of his county already chose a lesson: the
county recommends, in principle, one course per node, so a second school's course may be blocked
there. Counts only: no title, teacher or school of another school leaves the server."""

from django.urls import reverse

from courses import rules, services
from courses.models import CourseStatus
from courses.tests.conftest import leaf
from orgs.models import Role, Unit, UnitKind
from orgs.tests.factories import member

HINT = "赤坎区已有 3 门课程选择了这个节点（其中本校 1 门）。按本次活动规则，赤坎区原则上只推荐其中 1 节，可考虑换一节课。"


def _declare(user, campaign, node, title, school=None):
    return services.start_course(user, campaign, category="subject", node_id=node.pk, title=title, periods=1,
                                 school=school)


def _county_with_courses(tree, campaign, node):
    """On ``node``: one course of the teacher's school, two of two other schools of 赤坎区, one
    withdrawn there, and two of 霞山区 (another county)."""
    neighbours = [Unit.objects.create(name=f"赤坎区第{i}小学", code=f"44080200{i + 1}", kind=UnitKind.SCHOOL,
                                      parent=tree.county) for i in (1, 2)]
    _declare(tree.teacher, campaign, node, "本校的秋天")
    for i, school in enumerate(neighbours):
        _declare(member(school, Role.TEACHER, username=f"ck_t{i}", real_name=f"邻校老师{i}"), campaign, node,
                 f"邻校的秋天{i}")
    gone = _declare(member(neighbours[0], Role.TEACHER, username="ck_gone"), campaign, node, "已撤回的秋天")
    gone.status = CourseStatus.WITHDRAWN
    gone.save(update_fields=["status"])
    _declare(tree.other_teacher, campaign, node, "霞山区的秋天")
    _declare(member(tree.other_school, Role.TEACHER, username="xs_t2"), campaign, node, "霞山区的秋天二")


def test_picker_counts_the_courses_of_his_county_not_of_other_counties(tree, campaign, node):
    _county_with_courses(tree, campaign, node)
    params = services.picker_params(_declare(tree.teacher, campaign, leaf(campaign, index=3), "另一节"))
    lesson = next(item for item in services.node_picker(tree.teacher, campaign, {**params, "node": str(node.pk)},
                                                        tree.school)["lessons"] if item["id"] == node.pk)
    assert (lesson["same_group"], lesson["same_school"], lesson["hint"]) == (3, 1, HINT)
    # 霞山区's teacher sees his own county's two, none of 赤坎区's.
    other = next(item for item in services.node_picker(tree.other_teacher, campaign, {**params, "node": str(node.pk)},
                                                       tree.other_school)["lessons"] if item["id"] == node.pk)
    assert (other["same_group"], other["same_school"]) == (2, 2)
    assert other["hint"] == ("霞山区已有 2 门课程选择了这个节点（其中本校 2 门）。"
                             "按本次活动规则，霞山区原则上只推荐其中 1 节，可考虑换一节课。")


def test_picker_fragment_shows_the_count_and_no_names(client, tree, campaign, node, django_assert_max_num_queries):
    _county_with_courses(tree, campaign, node)
    client.force_login(tree.teacher)
    params = {**services.picker_params(_declare(tree.teacher, campaign, leaf(campaign, index=3), "另一节")),
              "campaign": campaign.pk, "node": node.pk}
    with django_assert_max_num_queries(30):
        html = client.get(reverse("courses:node_picker"), params).content.decode()
    assert f'<span class="warn small" data-node-hint>{HINT}</span>' in html
    for leaked in ("邻校的秋天", "邻校老师", "赤坎区第1小学", "赤坎区第2小学", "已撤回的秋天", "霞山区的秋天", "ck_t0"):
        assert leaked not in html


def test_picker_queries_do_not_grow_with_courses(client, tree, campaign, node, django_assert_max_num_queries):
    params = {**services.picker_params(_declare(tree.teacher, campaign, leaf(campaign, index=3), "另一节")),
              "campaign": campaign.pk}
    client.force_login(tree.teacher)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("courses:node_picker"), params)
    _county_with_courses(tree, campaign, node)
    for index in (4, 5, 6):
        _declare(tree.teacher, campaign, leaf(campaign, index=index), f"第{index}节")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("courses:node_picker"), params)


def test_a_city_owned_school_counts_the_schools_directly_under_the_city():
    text = rules.node_count_hint(in_group=2, in_school=0, group_name="湛江市", group_kind="city", node_rule="warn")
    assert text == "湛江市直属学校中已有 2 门课程选择了这个节点。湛江市推荐同一节点的多门课程时须说明理由。"
    assert rules.node_count_hint(in_group=0, in_school=0, group_name="赤坎区", group_kind="county",
                                 node_rule="block") == ""
