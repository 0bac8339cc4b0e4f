"""The Zhanjiang 2024 campaign driven end to end through school, county and city, on the demo data
(organisations, accounts, catalog and the shipped campaign as ``load_demo`` creates them) with the
campaign's real rules: the county quotas, one course per catalog node, the 80 % cap on the city's
特殊教育 awards, a return and resubmission, a deadline passing and a reopen, and the confirmation
lock with an unlock by the level above.

Teachers declare and submit through the course services (every required slot filled, checks
passed); the files carry measured facts (the probe has its own tests), so no video is encoded here.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.models import Campaign, Level
from catalog.models import CatalogNode
from courses import services as course_services
from courses.tests.conftest import GOOD_VIDEO, SLOT_FILE, SUBJECT_SLOTS, make_file
from jingpinke.errors import ServiceError
from orgs.models import Role, Unit, User
from orgs.tests.factories import member
from selection import services
from selection.models import Entry, EntryState

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

JUNIOR_VIDEO = {**GOOD_VIDEO, "duration_s": 1000.0}  # 初中: 15–20 min


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())
    return Campaign.objects.get(title="2024年湛江市基础教育精品课遴选")


def user(username):
    return User.objects.get(username=username)


def unit(name):
    return Unit.objects.get(name=name)


def node(campaign, subject, grade, index=0):
    return (CatalogNode.objects.filter(openings__campaign=campaign, is_leaf=True, textbook__subject=subject,
                                       textbook__grade=grade).order_by("textbook_id", "order")[index])


def declare(campaign, teacher, category, leaf, title):
    """A teacher declares a one-课时 course, fills every slot with a good file and submits it."""
    course = course_services.start_course(teacher, campaign, category=category, node_id=leaf.pk, title=title,
                                          periods=1)
    junior = leaf.textbook.stage != "primary"
    for slot in SUBJECT_SLOTS:
        probe = JUNIOR_VIDEO if slot == "video" and junior else None
        course_services.attach_file(teacher, course, 1, slot, make_file(teacher, SLOT_FILE[slot], probe=probe).pk)
    return course_services.submit(teacher, course)


def entry(course, kind) -> Entry:
    return Entry.objects.get(course=course, level__kind=kind)


def recommend(admin, course, kind, **kw) -> Entry:
    return services.decide(admin, entry(course, kind).pk, "recommend", **kw)


def test_zhanjiang_2024_through_school_county_and_city(demo, client):
    campaign = demo
    chikan, xiashan = unit("赤坎区"), unit("霞山区")
    ck_admin, zj_admin, school_admin = user("ck_admin"), user("zj_admin"), user("ck21x_admin")
    li, zhou = user("teacher_li"), user("teacher_zhou")
    # A teacher of another 赤坎区 school, and one per county's special school (融合教育 and 培智).
    other = member(unit("赤坎区第一小学"), Role.TEACHER, username="ck1x_teacher")
    special = {c.name: member(Unit.objects.get(parent=c, name__endswith="特殊教育学校"), Role.TEACHER,
                              username=f"special_{c.code}")
               for c in Unit.objects.filter(parent__name="湛江市", kind="county").order_by("code")}

    # --- school level: teachers submit, the school recommends --------------------------------------
    autumn = node(campaign, "语文", "一年级", 0)
    li_course = declare(campaign, li, "subject", autumn, "《秋天》朗读与感悟")
    zhou_course = declare(campaign, zhou, "subject", node(campaign, "数学", "一年级", 0), "数一数")
    other_course = declare(campaign, other, "subject", autumn, "秋天的图画")  # the same node, another school
    assert entry(li_course, "school").unit.name == "湛江市第二十一小学"
    recommend(school_admin, li_course, "school")
    recommend(school_admin, zhou_course, "school")
    recommend(ck_admin, other_course, "school")  # the county administers its schools' screening too
    waiting = Entry.objects.filter(level__kind="county", unit=chikan, state=EntryState.PENDING)
    # with the demo's own: 比大小 (数学) and 我上学了 (特殊教育), which 赤坎区's schools recommended
    assert set(waiting.values_list("course__title", flat=True)) == {
        "《秋天》朗读与感悟", "数一数", "秋天的图画", "比大小", "我上学了"}
    demo_maths, demo_special = (waiting.get(course__title=t).course for t in ("比大小", "我上学了"))

    # --- county level: one course per catalog node ------------------------------------------------
    recommend(ck_admin, li_course, "county")
    recommend(ck_admin, demo_maths, "county")
    with pytest.raises(ServiceError, match="同一目录节点"):
        recommend(ck_admin, other_course, "county")
    services.decide(ck_admin, entry(other_course, "county").pk, "decline", reason="同一课题已推荐《秋天》朗读与感悟")

    # --- a return and the resubmission come back to the county ------------------------------------
    services.decide(ck_admin, entry(zhou_course, "county").pk, "return", reason="学习任务单缺少分层练习，请补充后重新提交")
    zhou_course.refresh_from_db()
    assert zhou_course.status == "returned"
    fixed = make_file(zhou, "pdf", name="数一数学习任务单（修改稿）.pdf")
    course_services.attach_file(zhou, zhou_course, 1, "task_sheet", fixed.pk)  # editable again
    course_services.submit(zhou, zhou_course)
    county_entry = entry(zhou_course, "county")
    assert (county_entry.unit, county_entry.state) == (chikan, EntryState.PENDING)
    assert entry(zhou_course, "school").state == EntryState.RECOMMENDED  # the school is not asked again

    # --- county quota: 特殊教育 1 per county ----------------------------------------------------------
    life = [node(campaign, "生活适应", "一年级", i) for i in range(8)]
    assert demo_special.node == life[0]
    english = node(campaign, "英语", "七年级", 1)
    ck_special = declare(campaign, special["赤坎区"], "special", life[1], "我的老师")
    recommend(ck_admin, ck_special, "school")
    recommend(ck_admin, demo_special, "county")
    with pytest.raises(ServiceError, match="已推荐 1/1"):
        recommend(ck_admin, ck_special, "county")
    services.decide(ck_admin, entry(ck_special, "county").pk, "decline")

    # --- the county's deadline passes; the city reopens it -----------------------------------------
    county_level = Level.objects.get(campaign=campaign, kind="county")
    late = county_level.deadline + timedelta(seconds=1)
    with pytest.raises(ServiceError, match="截止"):
        recommend(ck_admin, zhou_course, "county", now=late)
    with pytest.raises(ServiceError, match="截止"):
        services.confirm(ck_admin, campaign, "county", chikan, now=late + timedelta(days=9))
    services.reopen(zj_admin, campaign, "county", chikan, late + timedelta(days=2), "赤坎区申请延期两天补报",
                    now=late)
    recommend(ck_admin, zhou_course, "county", now=late)
    with pytest.raises(ServiceError, match="截止"):  # 霞山区 keeps the campaign's deadline
        services.confirm(user("xs_admin"), campaign, "county", xiashan, now=late + timedelta(days=9))

    # --- the county confirms its summary table: locked until the city unlocks ----------------------
    services.set_award(ck_admin, entry(li_course, "county").pk, True)  # 县级精品课
    services.confirm(ck_admin, campaign, "county", chikan, now=late)
    with pytest.raises(ServiceError, match="已锁定"):
        services.decide(ck_admin, entry(zhou_course, "county").pk, "undo", now=late)
    with pytest.raises(PermissionDenied, match="上级"):
        services.unlock(ck_admin, campaign, "county", chikan, "自己解锁")
    services.unlock(zj_admin, campaign, "county", chikan, "赤坎区需调整推荐顺序")
    services.decide(ck_admin, entry(zhou_course, "county").pk, "undo", now=late)
    recommend(ck_admin, zhou_course, "county", rank=2, now=late)
    services.confirm(ck_admin, campaign, "county", chikan, now=late)

    client.force_login(ck_admin)
    response = client.get(reverse("selection:summary_xlsx", args=[campaign.pk, chikan.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content if response.streaming else
                                                  [response.content]))).active.iter_rows(values_only=True))
    titles = {cell for row in rows for cell in row if isinstance(cell, str)}
    assert {"《秋天》朗读与感悟", "数一数", "比大小", "我上学了"} <= titles
    assert not {"秋天的图画", "我的老师"} & titles

    # --- city level: the other counties send their 特殊教育 course; the 80 % cap on the awards -------
    others = iter(life[1:])  # a node of its own for each county: the city keeps one course per node
    for name, teacher in special.items():
        if name == "赤坎区":
            continue
        county = unit(name)
        admin = user("xs_admin") if name == "霞山区" else member(county, Role.ADMIN, username=f"admin_{county.code}")
        leaf = english if name == "霞山区" else next(others)
        course = declare(campaign, teacher, "special", leaf, f"{name}特殊教育精品课")
        recommend(admin, course, "school")
        recommend(admin, course, "county")
    city_special = list(Entry.objects.filter(level__kind="city", unit=unit("湛江市"), course__category="special")
                        .select_related("node__textbook"))
    assert len(city_special) == 9
    capped = [e for e in city_special if e.node.textbook.subject in ("语文", "数学", "生活适应")]
    assert len(capped) == 8
    for e in city_special:  # every city entry is decided before the city confirms
        services.decide(zj_admin, e.pk, "recommend")
    for e in Entry.objects.filter(level__kind="city", state=EntryState.PENDING):
        services.decide(zj_admin, e.pk, "recommend")
    # 4 生活适应 + 1 英语 = 80 %: allowed; a fifth 生活适应 award makes 5 of 6 (83 %): refused.
    english_entry = next(e for e in city_special if e.node.textbook.subject == "英语")
    for e in [english_entry, *capped[:5]]:
        services.set_award(zj_admin, e.pk, True)
    board = services.share_board(campaign, Level.objects.get(campaign=campaign, kind="city"), unit("湛江市"))
    cap, applies_to = board["caps"][0]
    assert applies_to == "awards" and round(cap.percent) == 83
    with pytest.raises(ServiceError, match="80"):
        services.confirm(zj_admin, campaign, "city", unit("湛江市"))
    services.set_award(zj_admin, capped[4].pk, False)
    services.confirm(zj_admin, campaign, "city", unit("湛江市"))
    with pytest.raises(ServiceError, match="已锁定"):
        services.set_award(zj_admin, capped[4].pk, True)

    # The chain of one course, and its history as the entry page shows it.
    assert [e.level.kind for e in services.chain(entry(li_course, "city"))] == ["school", "county", "city"]
    actions = [event.action for event in services.history(entry(zhou_course, "county"))]
    assert {"selection.return", "selection.resubmit", "selection.undo", "selection.recommend"} <= set(actions)
