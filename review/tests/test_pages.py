"""Review pages: scope, the rubric form, the expert pool and its Excel import, rounds, manual
assignment, and the expert's pages rendering nothing that names teacher, school or county."""

import base64
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from audit.models import Event
from orgs.models import Membership, Role, User
from orgs.tests.conftest import make_xlsx
from review import services
from review.models import Assignment, ExpertProfile, ReviewRound, Rubric


def html(response) -> str:
    return response.content.decode()


# --- rubric ----------------------------------------------------------------------------------------
def test_the_rubric_page_lists_the_four_aspects(client, tree, campaign):
    client.force_login(tree.county_admin)
    page = html(client.get(reverse("review:rubrics", args=[campaign.pk])))
    for text in ("2024 年学科课程评价指标", "目标与内容", "教学过程与方法", "教学资源", "技术规范", "非原创（抄袭、剽窃他人成果）"):
        assert text in page
    assert reverse("review:rubric_edit", args=[campaign.pk, "subject"]) not in page  # not the owner
    assert client.get(reverse("review:rubric_edit", args=[campaign.pk, "subject"])).status_code == 403


def test_the_owner_saves_the_rubric_form(client, tree, campaign):
    client.force_login(tree.city_admin)
    url = reverse("review:rubric_edit", args=[campaign.pk, "experiment"])
    assert client.get(url).status_code == 200
    data = {"title": "实验教学指标", "total_points": "100", "vetoes": "非原创\n存在科学性错误\n",
            "row-0-dimension": "实验设计", "row-0-item": "设计合理", "row-0-points": "60", "row-0-weight": "1",
            "row-1-dimension": "技术规范", "row-1-item": "画面清晰", "row-1-points": "20", "row-1-weight": "2",
            "row-2-dimension": "", "row-2-item": "", "row-2-points": "", "row-2-weight": "1"}
    response = client.post(url, data)
    assert response.status_code == 302
    rubric = Rubric.objects.get(campaign=campaign, category="experiment")
    assert services.rubric_doc(rubric) == {
        "title": "实验教学指标", "total_points": "100.0", "vetoes": ["非原创", "存在科学性错误"],
        "dimensions": [{"name": "实验设计", "items": [{"name": "设计合理", "description": "", "max_points": "60.0",
                                                      "weight": "1.00"}]},
                       {"name": "技术规范", "items": [{"name": "画面清晰", "description": "", "max_points": "20.0",
                                                      "weight": "2.00"}]}]}
    bad = client.post(url, {**data, "row-0-points": "0"})
    assert bad.status_code == 400
    assert "分值应为大于 0、不超过 100 的数（最多一位小数），例如 10。" in html(bad)


# --- experts ---------------------------------------------------------------------------------------
def test_add_an_expert_on_the_page_shows_the_password_once(client, tree):
    client.force_login(tree.county_admin)
    url = reverse("review:experts") + f"?unit={tree.county.pk}"
    response = client.post(url, {"real_name": "李明", "mobile": "13911112222", "work_unit": "440802001",
                                 "subjects": "语文", "stages": ["primary"], "max_load": "8"})
    assert response.status_code == 200
    assert "李明已加入专家库。" in html(response)
    user = User.objects.get(mobile="13911112222")
    assert user.expert_profile.max_load == 8
    assert client.get(reverse("review:experts") + f"?unit={tree.other_county.pk}").status_code == 404


def test_import_experts_from_excel(client, tree):
    client.force_login(tree.city_admin)
    template = client.get(reverse("review:expert_template"))
    headers = [c.value for c in load_workbook(io.BytesIO(template.content)).active[1]]
    assert headers == ["姓名*", "手机号*", "工作单位", "学科*", "学段*", "最大评审量"]
    sheet = make_xlsx(services.EXPERT_COLUMNS, [
        ["王建国", "13900139001", "440803001", "语文、数学", "小学、初中", "20"],
        [tree.teacher.real_name, "13800000001", "", "语文", "小学", ""],
        ["高校专家", "13900139002", "岭南师范学院", "物理", "初中", "5"],
    ])
    response = client.post(reverse("review:expert_import") + f"?unit={tree.city.pk}", {"file": sheet})
    assert response.status_code == 200, html(response)
    assert "已把 3 位专家加入湛江市专家库。" in html(response)
    assert "下载 2 个新账户的初始密码表（.xlsx）" in html(response)
    wang = User.objects.get(mobile="13900139001")
    assert (wang.expert_profile.work_unit, wang.expert_profile.stages, wang.expert_profile.max_load) == (
        tree.other_school, ["primary", "junior"], 20)
    assert tree.teacher.expert_profile.max_load == 30
    outsider = User.objects.get(mobile="13900139002").expert_profile
    assert (outsider.work_unit, outsider.work_unit_name) == (None, "岭南师范学院")
    assert Membership.objects.filter(unit=tree.city, role=Role.EXPERT).count() == 4  # with the fixture's expert
    href = html(response).split('href="data:')[1].split('"')[0]
    rows = list(load_workbook(io.BytesIO(base64.b64decode(href.split("base64,")[1]))).active.values)
    assert [r[0] for r in rows[1:3]] == ["王建国", "高校专家"]


def test_a_bad_expert_sheet_imports_nothing_and_lists_every_row(client, tree):
    client.force_login(tree.county_admin)
    before = (User.objects.count(), Membership.objects.count(), Event.objects.count())
    sheet = make_xlsx(services.EXPERT_COLUMNS, [
        ["王建国", "13900139001", "", "语文", "小学", "20"],
        ["别人", "13800000001", "", "语文", "小学", ""],
        ["赵六", "139", "", "", "大学", "x"],
    ])
    response = client.post(reverse("review:expert_import") + f"?unit={tree.county.pk}", {"file": sheet})
    assert response.status_code == 400
    page = html(response)
    for text in ("第 3 行", "手机号 13800000001 已属于系统中的另一位用户，姓名与本行不一致：请核对姓名或手机号。",
                 "第 4 行", "手机号“139”格式不对，请填写 11 位手机号码，例如 13800138000。",
                 "请填写评审学科，多个学科用顿号分隔，例如“语文、数学”。",
                 "学段“大学”无法识别，请填写：小学、初中、高中或特殊教育。", "最大评审量应为 1 到 500 之间的整数，留空为 30。"):
        assert text in page
    assert (User.objects.count(), Membership.objects.count(), Event.objects.count()) == before


def test_a_teacher_has_no_expert_pool(client, tree):
    client.force_login(tree.teacher)
    assert client.get(reverse("review:experts")).status_code == 403
    assert client.get(reverse("review:expert_template")).status_code == 403


# --- rounds ----------------------------------------------------------------------------------------
def test_create_a_round_on_the_page(client, tree, campaign, nodes, county_entry):
    county_entry(node=nodes[0])
    client.force_login(tree.county_admin)
    url = reverse("review:round_new", args=[campaign.pk])
    page = html(client.get(url))
    assert "赤坎区 · 县级初选" in page
    response = client.post(url, {"unit": tree.county.pk, "title": "初选", "category": "subject", "phase": "lecture",
                                 "reviewers_per_entry": "3", "opens_at": "2030-09-01T08:00",
                                 "closes_at": "2030-09-05T18:00", "lecture_date": "2030-09-03",
                                 "lecture_place": "赤坎区教师发展中心"})
    r = ReviewRound.objects.get()
    assert response.status_code == 302 and response.url == reverse("review:round", args=[r.pk])
    assert timezone.localtime(r.closes_at).isoformat() == "2030-09-05T18:00:00+08:00"
    assert (r.phase, str(r.lecture_date), r.lecture_place) == ("lecture", "2030-09-03", "赤坎区教师发展中心")


def test_the_other_county_cannot_open_or_act_on_the_round(client, tree, county_round, pool):
    client.force_login(tree.other_county_admin)
    assert client.get(reverse("review:round", args=[county_round.pk])).status_code == 404
    response = client.post(reverse("review:round_action", args=[county_round.pk]),
                           {"action": "add_member", "expert": pool[0].pk})
    assert response.status_code == 404
    page = html(client.get(reverse("review:round_new", args=[county_round.campaign_id])))
    assert "霞山区 · 县级初选" in page and "赤坎区 · 县级初选" not in page  # only his own county
    response = client.post(reverse("review:round_new", args=[county_round.campaign_id]),
                           {"unit": tree.county.pk, "title": "x", "category": "subject"})
    assert "请选择本单位。" in html(response)
    client.force_login(tree.school_admin)
    assert client.get(reverse("review:round_new", args=[county_round.campaign_id])).status_code == 403


def test_panel_and_assignment_on_the_round_page(client, tree, county_round, pool, django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    action = reverse("review:round_action", args=[county_round.pk])
    for i, e in enumerate(pool):
        client.post(action, {"action": "add_member", "expert": e.pk, "is_chair": "1" if i == 0 else ""})
    entry = county_round.round_entries.order_by("code").first()
    client.post(action, {"action": "assign", "entry": entry.pk, "expert": pool[0].pk})
    client.post(action, {"action": "assign", "entry": entry.pk, "expert": pool[1].pk})
    response = client.post(action, {"action": "assign", "entry": entry.pk, "expert": pool[2].pk}, follow=True)
    assert f"《{entry.code} {entry.entry.course.title}》已有 2 位评审专家（每件作品 2 位）；请先移除一位，或改用调整。" in \
        html(response)
    assert Assignment.objects.filter(entry=entry).count() == 2
    with django_assert_max_num_queries(20):
        page = html(client.get(reverse("review:round", args=[county_round.pk])))
    assert "还差 2 位" in page  # the second entry has nobody yet
    response = client.post(action, {"action": "publish"}, follow=True)
    assert "已发布：评审组专家登录后可以看到自己的评审任务。" in html(response)


def test_the_round_page_query_count_does_not_grow_with_entries(client, tree, campaign, nodes, county_entry, pool,
                                                                window, django_assert_max_num_queries):
    for node in nodes[:6]:
        county_entry(node=node)
    r = services.create_round(tree.county_admin, campaign, tree.county, title="大轮", category="subject",
                              reviewers_per_entry=3, **window)
    for e in pool:
        services.add_panel_member(tree.county_admin, r, e.pk)
    for re in r.round_entries.all():
        for e in pool:
            services.assign(tree.county_admin, r, re.pk, e.pk) if Assignment.objects.filter(expert=e).count() < 5 \
                else None
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("review:round", args=[r.pk])).status_code == 200


# --- the expert's pages ----------------------------------------------------------------------------
def _published(tree, county_round, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk, is_chair=True)
    for re in county_round.round_entries.all():
        services.assign(tree.county_admin, county_round, re.pk, pool[0].pk)
    services.publish_round(tree.county_admin, county_round)


def test_the_expert_sees_his_tasks_blind(client, tree, county_round, pool, django_assert_max_num_queries):
    _published(tree, county_round, pool)
    client.force_login(pool[0])
    with django_assert_max_num_queries(12):
        page = html(client.get(reverse("review:my")))
    codes = list(county_round.round_entries.order_by("code").values_list("code", flat=True))
    for text in (*codes, "认识天地", "小小的船", "县级初选 · 学科课程 · 视频评审", "组长", "剩 3 天"):
        assert text in page
    home = html(client.get(reverse("portal:home")))
    assert codes[0] in home and "我的评审任务" in home
    for secret in (tree.teacher.real_name, tree.teacher.username, tree.school.name, tree.county.name,
                   county_round.title):
        assert secret not in page
        assert secret not in home.split('id="review-tasks"')[1].split("</section>")[0]


def test_an_expert_has_no_admin_pages(client, tree, county_round, pool):
    _published(tree, county_round, pool)
    client.force_login(pool[0])
    assert client.get(reverse("review:round", args=[county_round.pk])).status_code == 404
    assert client.get(reverse("review:experts")).status_code == 403
    assert client.get(reverse("review:rubrics", args=[county_round.campaign_id])).status_code in (403, 404)
    page = html(client.get(reverse("review:home")))
    assert county_round.title not in page


def test_the_closed_window_says_so(client, tree, county_round, pool):
    _published(tree, county_round, pool)
    ReviewRound.objects.update(closes_at=timezone.now() - timedelta(minutes=1))
    client.force_login(pool[0])
    assert "已截止" in html(client.get(reverse("review:my")))


def test_a_non_expert_has_no_task_page(client, tree):
    client.force_login(tree.teacher)
    assert client.get(reverse("review:my")).status_code == 403


def test_an_expert_with_a_profile_from_setup_sees_nothing_before_publishing(client, tree, county_round, pool):
    services.add_panel_member(tree.county_admin, county_round, pool[0].pk)
    services.assign(tree.county_admin, county_round, county_round.round_entries.first().pk, pool[0].pk)
    ExpertProfile.objects.filter(user=pool[0]).update(max_load=9)
    client.force_login(pool[0])
    assert 'id="no-tasks"' in html(client.get(reverse("review:my")))


def test_the_expert_declines_a_task_on_his_page(client, tree, county_round, pool):
    _published(tree, county_round, pool)
    a = Assignment.objects.filter(expert=pool[0]).order_by("entry__code").first()
    client.force_login(pool[0])
    response = client.post(reverse("review:decline", args=[a.pk]), {"reason": "亲属关系"}, follow=True)
    assert "已记录回避，这项任务已撤回，组织单位会另行安排专家。" in html(response)
    assert not Assignment.objects.filter(pk=a.pk).exists()
    client.force_login(pool[1])
    other = Assignment.objects.filter(expert=pool[0]).first()
    assert client.post(reverse("review:decline", args=[other.pk]), {"reason": "x"}).status_code == 404


def test_list_pages_have_bounded_query_counts(client, tree, campaign, county_round, pool,
                                              django_assert_max_num_queries):
    for i in range(10):
        services.add_expert(tree.county_admin, tree.county, real_name=f"新专家{i}", mobile=f"1370000000{i}",
                            work_unit="440800", subjects="语文", stages="小学")
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(12):
        page = html(client.get(reverse("review:experts") + f"?unit={tree.county.pk}"))
    assert page.count("<tr><td>") == 13 and "湛江市" in page
    services.rubrics_for(tree.county_admin, campaign)  # the defaults exist already
    with django_assert_max_num_queries(14):
        assert client.get(reverse("review:rubrics", args=[campaign.pk])).status_code == 200
    with django_assert_max_num_queries(16):
        page = html(client.get(reverse("review:home")))
    assert county_round.title in page
