"""The two shipped templates (exact numbers from the notices), export/import, the demo loader."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import Event
from campaigns import demo, services
from campaigns.enums import CampaignStatus
from campaigns.models import Campaign
from jingpinke.errors import ServiceError

CST = timezone(timedelta(hours=8))


def eod(month, day, year=2024):
    return datetime(year, month, day, 23, 59, 59, tzinfo=CST)


def by_kind(campaign):
    return {lv.kind: lv for lv in campaign.levels.all()}


# --- Zhanjiang 2024 ------------------------------------------------------------------------------------
def test_zhanjiang_levels_and_deadlines(zhanjiang):
    levels = by_kind(zhanjiang)
    assert sorted(levels) == ["city", "county", "school"]
    county, city = levels["county"], levels["city"]
    assert (county.name, county.award_name) == ("县级初选", "县级精品课")
    assert county.deadline.isoformat() == "2024-09-20T15:59:59+00:00"
    assert county.deadline == eod(9, 20)
    assert (county.confirm_deadline, county.contact_form_deadline) == (eod(9, 20), eod(8, 26))
    assert (city.deadline, city.confirm_deadline, city.contact_form_deadline) == (eod(9, 27), eod(9, 30), eod(7, 30))
    assert levels["school"].deadline == eod(9, 20)
    assert (zhanjiang.year, zhanjiang.title, zhanjiang.status) == (2024, "2024年湛江市基础教育精品课遴选", "open")


def test_zhanjiang_quotas(tree, zhanjiang):
    assert services.quota_for(zhanjiang, tree.county, "subject").limit == 25
    assert services.quota_for(zhanjiang, tree.county, "special").limit == 1
    assert services.quota_for(zhanjiang, tree.county, "experiment").limit == 10
    assert services.quota_for(zhanjiang, tree.other_county, "subject", "语文").limit == 25
    city_school = services.quota_for(zhanjiang, tree.city_school, "subject", "物理")
    assert (city_school.limit, city_school.per_subject, city_school.school_owner_kind) == (1, True, "city")
    assert services.quota_for(zhanjiang, tree.city_school, "experiment", "化学").limit == 1
    assert services.quota_for(zhanjiang, tree.school, "subject", "语文") is None
    assert services.quota_for(zhanjiang, tree.city, "subject") is None


def test_zhanjiang_contacts_rules_and_notice(zhanjiang):
    assert [(c.name, c.phone, c.unit_name) for c in zhanjiang.contacts.all()] == [
        ("李仁勃", "3201457", "湛江市教育装备中心"), ("包丹", "3211209", "湛江市教育局基础教育科"),
        ("林力文", "3472366", "湛江市教育局教学研究室"), ("周剑伟", "2338087", "湛江市教师发展中心")]
    notices = list(zhanjiang.notices.all())
    assert [(n.title, n.issuer) for n in notices] == [
        ("关于开展2024年湛江市“基础教育精品课”遴选工作的通知", "湛江市教育局"),
        ("附件1：广东省教育厅关于开展2024年“基础教育精品课”遴选工作的通知", "广东省教育厅")]
    assert "每县(市、区)择优推荐学科课程25节、特殊教育(包括普校)1节、实验教学10节" in notices[0].body
    assert "教育装备中心李仁勃，电话：3201457" in notices[0].body
    assert (zhanjiang.node_rule, zhanjiang.new_textbook_grades) == ("block", ["一年级", "七年级"])


def test_packages_and_specs(zhanjiang):
    cats = {c.category: c for c in zhanjiang.categories.prefetch_related("slots", "specs")}
    assert sorted(cats) == ["experiment", "special", "subject"]
    assert [(s.label, s.required, s.formats) for s in cats["subject"].slots.all()] == [
        ("微课视频", True, ["mp4"]), ("教学设计", True, ["pdf", "docx"]), ("学习任务单", True, ["pdf", "docx"]),
        ("课件", True, ["pptx", "pdf"]), ("作业练习", True, ["pdf", "docx"])]
    assert [(s.kind, s.required) for s in cats["special"].slots.all()] == [
        ("video", True), ("lesson_plan", True), ("task_sheet", True), ("slides", True), ("exercises", False)]
    assert [s.label for s in cats["experiment"].slots.all()] == ["实验教学视频", "实验教学设计", "导学案", "课件"]
    assert {c.max_periods for c in cats.values()} == {3}
    specs = {s.stage: s for s in cats["subject"].specs.all()}
    assert {k: (s.min_duration_s, s.max_duration_s) for k, s in specs.items()} == {
        "primary": (600, 900), "junior": (900, 1200), "senior": (900, 1200), "special": (600, 1200)}
    p = specs["primary"]
    assert (p.container, p.video_codec, p.width, p.height, float(p.fps), p.video_bitrate_kbps, p.audio_codec,
            p.audio_bitrate_kbps, p.max_size_mb, p.title_card_seconds) == (
        "mp4", "h264", 1920, 1080, 25.0, 8000, "aac", 128, 1024, 5)
    assert services.spec_for(zhanjiang, "subject", "junior").max_duration_s == 1200
    # 特殊教育 textbooks (培智 grades 1–9) span 小学 and 初中: the notices give no length of their
    # own, so the shipped spec accepts 10–20 min (the owner can change it); the rest as for all.
    special = services.spec_for(zhanjiang, "special", "special")
    assert (special.min_duration_s, special.max_duration_s, special.width, special.video_codec) == (600, 1200, 1920, "h264")


# --- Guangdong 2024 ------------------------------------------------------------------------------------
def test_guangdong_template(guangdong):
    levels = by_kind(guangdong)
    assert sorted(levels) == ["city", "county", "province", "school"]
    city = levels["city"]
    assert (city.contact_form_deadline, city.deadline, city.confirm_deadline) == (eod(7, 30), eod(9, 27), eod(9, 30))
    assert (city.award_name, levels["province"].award_name) == ("市级精品课", "省级精品课")
    assert [(c.name, c.phone, c.category) for c in guangdong.contacts.all()] == [
        ("胡少如", "020-84449829", "subject"), ("王莹", "020-37628162", "special"),
        ("朱琴", "020-87627524", "experiment"), ("叶振华", "020-37626456", ""), ("胡军苟", "020-83196886", "")]
    assert guangdong.share_caps == [{"level": "city", "category": "special", "subjects": ["语文", "数学", "生活适应"],
                                     "max_percent": 80, "applies_to": "awards"}]
    assert guangdong.target_shares == [{"level": "city", "category": "subject",
                                        "subjects": ["科学", "物理", "化学", "生物学"], "min_percent": None,
                                        "note": "适当加大科学类精品课推荐数量"}]
    assert (guangdong.node_rule, guangdong.new_textbook_grades) == ("block", ["一年级", "七年级"])
    assert guangdong.quotas.count() == 0


def test_shipped_template_list():
    assert [(t.key, t.title, t.year, t.owner_kind) for t in services.shipped_templates()] == [
        ("guangdong-2024", "2024年广东省基础教育精品课遴选", 2024, "province"),
        ("zhanjiang-2024", "2024年湛江市基础教育精品课遴选", 2024, "city")]


def test_a_city_template_cannot_belong_to_a_county_or_a_province_template_to_a_city(tree):
    with pytest.raises(ServiceError) as exc:
        services.create_from_shipped(tree.sysadmin, "guangdong-2024", tree.city)
    assert exc.value.errors == [{"row": "省层级", "column": "层级", "message": "高于主办单位（市），主办单位不能管理上级的层级。"}]
    assert Campaign.objects.count() == 0


def test_unknown_shipped_template(tree):
    with pytest.raises(ServiceError) as exc:
        services.create_from_shipped(tree.sysadmin, "beijing-2024", tree.city)
    assert exc.value.message == "没有名为“beijing-2024”的内置模板。"


# --- export and import ------------------------------------------------------------------------------
def test_export_then_import_round_trips_with_a_year_offset(tree, zhanjiang):
    services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                   deadline="2024-09-10", reason="区县初选需要时间")
    services.set_quota_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.county,
                                category="subject", limit=30)
    doc = services.export_template(tree.city_admin, zhanjiang)
    assert "id" not in doc and "owner" not in doc
    assert doc["levels"][0]["overrides"] == [{"unit": "440802", "reason": "区县初选需要时间",
                                              "deadline": "2024-09-10T23:59:59+08:00", "confirm_deadline": None,
                                              "contact_form_deadline": None}]
    assert [q for q in doc["quotas"] if q["unit"]] == [{"level": "county", "unit": "440802", "school_owner_kind": "", "category": "subject",
                                "subject": "", "per_subject": False, "limit": 30}]
    copy = services.import_template(tree.city_admin, json.loads(json.dumps(doc)), tree.city, year_offset=1)
    assert (copy.year, copy.title, copy.status) == (2025, "2025年湛江市基础教育精品课遴选", CampaignStatus.DRAFT)
    assert by_kind(copy)["county"].deadline == eod(9, 20, 2025)
    assert services.deadlines_for(copy, tree.school)[0].deadline == eod(9, 10, 2025)
    assert services.quota_for(copy, tree.county, "subject").limit == 30
    again = services.export_template(tree.city_admin, copy)
    assert again["year"] == 2025
    for key in ("categories", "contacts", "notices", "share_caps", "target_shares", "quotas"):
        assert again[key] == doc[key], key
    event = Event.objects.filter(action="campaigns.campaign.import").latest("pk")
    assert (event.after["year_offset"], event.after["template_year"], event.unit_path) == (1, 2024, tree.city.path)


def test_an_invalid_template_is_refused_whole_with_every_reason(tree, zhanjiang):
    doc = services.export_template(tree.city_admin, zhanjiang)
    doc["levels"][1]["deadline"] = "9月20日"
    doc["quotas"].append({"level": "county", "unit": "999999", "category": "subject", "limit": 3})
    doc["categories"][0]["slots"][0]["kind"] = "poster"
    count = Campaign.objects.count()
    with pytest.raises(ServiceError) as exc:
        services.import_template(tree.city_admin, doc, tree.city, title="副本")
    assert exc.value.message == "这不是有效的活动模板，未导入任何内容。请按下列问题修改（共 3 处）。"
    assert [(e["row"], e["column"]) for e in exc.value.errors] == [
        ("类别“学科课程” › 资源项 1", "资源类型"), ("县（市、区）层级", "推荐截止时间"), ("单位代码 999999", "单位")]
    assert exc.value.errors[2]["message"] == "在湛江市范围内找不到这个单位（或已停用）。"
    assert Campaign.objects.count() == count


def test_a_unit_of_another_city_in_a_template_is_refused(tree, zhanjiang):
    doc = services.export_template(tree.city_admin, zhanjiang)
    doc["quotas"].append({"level": "county", "unit": "440802", "category": "subject", "limit": 3})
    with pytest.raises(ServiceError) as exc:
        services.import_template(tree.sysadmin, doc, tree.other_city)
    assert exc.value.errors == [{"row": "单位代码 440802", "column": "单位", "message": "在茂名市范围内找不到这个单位（或已停用）。"}]


def test_importing_the_same_title_twice_is_refused(tree, zhanjiang):
    doc = services.export_template(tree.city_admin, zhanjiang)
    with pytest.raises(ServiceError) as exc:
        services.import_template(tree.city_admin, doc, tree.city)
    assert exc.value.message == "湛江市在 2024 年已有名为“2024年湛江市基础教育精品课遴选”的活动，请换一个名称。"


@pytest.mark.parametrize("raw, message", [
    (b"{not json", "模板文件不是有效的 JSON：第 1 行第 2 列附近有错误。"),
    ("{}".encode("gbk") + b"\xff", "模板文件不是 UTF-8 编码的文本，请上传本系统导出的 .json 文件。"),
])
def test_a_file_that_is_not_json_is_refused(raw, message):
    with pytest.raises(ServiceError) as exc:
        services.read_template_file(SimpleUploadedFile("t.json", raw))
    assert exc.value.message == message


def test_only_owner_admins_export(tree, zhanjiang):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.export_template(tree.county_admin, zhanjiang)


def test_import_needs_an_owner_the_actor_administers(tree, zhanjiang):
    from django.core.exceptions import PermissionDenied

    doc = services.export_template(tree.city_admin, zhanjiang)
    with pytest.raises(PermissionDenied) as exc:
        services.import_template(tree.city_admin, doc, tree.other_city)
    assert str(exc.value) == "您只能为自己管理的省或市创建遴选活动。"
    with pytest.raises(PermissionDenied):
        services.import_template(tree.county_admin, doc, tree.city, title="x")


# --- demo ------------------------------------------------------------------------------------------
def test_demo_load_creates_the_open_zhanjiang_campaign_once(db):
    from orgs import demo as orgs_demo

    units = orgs_demo.load()
    campaign = demo.load(units["province"], units["city"])
    assert (campaign.owner, campaign.status, campaign.title) == (units["city"], "open", "2024年湛江市基础教育精品课遴选")
    assert demo.load(units["province"], units["city"]) == campaign
    for name, county in units["counties"].items():
        assert services.quota_for(campaign, county, "subject").limit == 25, name
    assert Campaign.objects.count() == 1


def test_demo_moves_the_deadlines_after_today_keeping_their_order_and_gaps(db):
    from datetime import date

    from orgs import demo as orgs_demo

    units = orgs_demo.load()
    campaign = demo.load(units["province"], units["city"], today=date(2026, 11, 28))
    levels = by_kind(campaign)
    # The notice's dates 7-30, 8-26, 9-20, 9-27, 9-30 move by the same number of days,
    # the earliest (the city's contact form, 7-30) to 14 days after today.
    shift = (date(2026, 12, 12) - date(2024, 7, 30)).days
    expected = {("city", "contact_form_deadline"): eod(7, 30), ("county", "contact_form_deadline"): eod(8, 26),
                ("county", "deadline"): eod(9, 20), ("city", "deadline"): eod(9, 27),
                ("city", "confirm_deadline"): eod(9, 30), ("school", "deadline"): eod(9, 20)}
    for (kind, field), when in expected.items():
        assert getattr(levels[kind], field) == when + timedelta(days=shift), (kind, field)
    assert f"顺延 {shift} 天" in campaign.description
    # The shipped template keeps the real dates.
    doc = services.shipped_template_doc(demo.DEMO_TEMPLATE)
    assert "2024-09-20" in json.dumps(doc)


def test_template_files_are_valid_utf8_json():
    for path in services.TEMPLATES_DIR.glob("*.json"):
        doc = json.load(open(path, encoding="utf-8"))
        assert doc["format"] == "jingpinke-campaign-template"
