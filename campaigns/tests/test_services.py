"""Use cases: who sees which campaign, effective deadlines, quotas, editing each part, audit entries."""

from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from audit.models import Event
from campaigns import services
from campaigns.enums import CampaignStatus
from campaigns.models import DeadlineOverride, Quota
from jingpinke.errors import ServiceError
from jingpinke.s3server import body_of, s3_test_run, served

CST = timezone(timedelta(hours=8))


def eod(month, day, year=2024):
    return datetime(year, month, day, 23, 59, 59, tzinfo=CST)


def titles(qs):
    return sorted(c.title for c in qs)


# --- campaigns_for ---------------------------------------------------------------------------------
def test_campaigns_for_each_role(tree, zhanjiang, guangdong, maoming):
    zj, gd, mm = zhanjiang.title, guangdong.title, maoming.title
    assert titles(services.campaigns_for(tree.teacher)) == sorted([gd, zj])
    assert titles(services.campaigns_for(tree.county_admin)) == sorted([gd, zj])
    assert titles(services.campaigns_for(tree.city_admin)) == sorted([gd, zj])
    assert titles(services.campaigns_for(tree.province_admin)) == sorted([gd, zj, mm])
    assert titles(services.campaigns_for(tree.sysadmin)) == sorted([gd, zj, mm])
    assert titles(services.campaigns_for(tree.other_teacher)) == sorted([gd, zj])
    assert titles(services.campaigns_for(tree.expert)) == sorted([gd, zj])


def test_drafts_only_concern_the_owners_admins(tree, zhanjiang):
    zhanjiang.status = CampaignStatus.DRAFT
    zhanjiang.save()
    assert list(services.campaigns_for(tree.city_admin)) == [zhanjiang]
    assert list(services.campaigns_for(tree.province_admin)) == [zhanjiang]
    assert list(services.campaigns_for(tree.county_admin)) == []
    assert list(services.campaigns_for(tree.teacher)) == []
    with pytest.raises(Http404):
        services.get_campaign(tree.county_admin, zhanjiang.pk)


def test_anonymous_sees_nothing(tree, zhanjiang):
    from django.contrib.auth.models import AnonymousUser

    assert list(services.campaigns_for(AnonymousUser())) == []


# --- deadlines_for ----------------------------------------------------------------------------------
def test_deadlines_for_a_county_school_with_inheritance(tree, zhanjiang):
    services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                   deadline="2024-09-10", confirm_deadline="2024-09-12 17:00")
    rows = services.deadlines_for(zhanjiang, tree.school)
    assert [r.level.kind for r in rows] == ["school", "county", "city"]
    school = rows[0]
    assert (school.deadline, school.deadline_source, school.deadline_label) == (eod(9, 10), tree.county, "继承自赤坎区")
    assert (school.confirm_deadline, school.confirm_label) == (datetime(2024, 9, 12, 17, 0, tzinfo=CST), "继承自赤坎区")
    assert (school.contact_form_deadline, school.contact_form_source, school.contact_form_label) == (None, None, "活动默认")
    assert (rows[1].deadline, rows[1].deadline_label) == (eod(9, 20), "活动默认")
    own = services.deadlines_for(zhanjiang, tree.county)
    assert [r.level.kind for r in own] == ["county", "city"]


def test_a_schools_own_override_beats_its_county(tree, zhanjiang):
    services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                   deadline="2024-09-10")
    services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.school,
                                   deadline="2024-09-08")
    school = services.deadlines_for(zhanjiang, tree.school)[0]
    assert (school.deadline, school.deadline_label) == (eod(9, 8), "本单位设置")
    other = services.deadlines_for(zhanjiang, tree.other_school)[0]
    assert (other.deadline, other.deadline_label) == (eod(9, 20), "活动默认")


def test_a_city_school_skips_the_county_level(tree, zhanjiang, guangdong):
    assert [r.level.kind for r in services.deadlines_for(zhanjiang, tree.city_school)] == ["school", "city"]
    assert [r.level.kind for r in services.deadlines_for(guangdong, tree.province_school)] == ["school", "province"]
    assert [r.level.kind for r in services.deadlines_for(guangdong, None)] == ["school", "county", "city", "province"]


def test_deadlines_for_takes_few_queries(tree, zhanjiang, django_assert_max_num_queries):
    school = type(tree.school).objects.select_related("parent").get(pk=tree.school.pk)
    with django_assert_max_num_queries(2):
        services.deadlines_for(zhanjiang, school)


# --- deadline overrides ----------------------------------------------------------------------------------
def test_setting_an_override_is_audited_and_replaces(tree, zhanjiang):
    o = services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                       deadline="2024-09-10", reason="初选")
    again = services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                           deadline="2024-09-11")
    assert o.pk == again.pk and DeadlineOverride.objects.count() == 1
    events = list(Event.objects.filter(action="campaigns.deadline_override.set").order_by("pk"))
    assert [(e.before, e.after["deadline"], e.unit_path, e.actor_id) for e in events] == [
        (None, "2024-09-10T23:59:59+08:00", tree.county.path, tree.county_admin.pk),
        ({"level": "school", "unit": "440802", "reason": "初选", "deadline": "2024-09-10T23:59:59+08:00",
          "confirm_deadline": None, "contact_form_deadline": None},
         "2024-09-11T23:59:59+08:00", tree.county.path, tree.county_admin.pk)]
    services.delete_deadline_override(tree.county_admin, zhanjiang, o.pk)
    assert DeadlineOverride.objects.count() == 0
    assert Event.objects.filter(action="campaigns.deadline_override.delete").count() == 1


def test_override_input_errors(tree, zhanjiang):
    with pytest.raises(ServiceError) as exc:
        services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county)
    assert exc.value.message == "输入有误，请修改后再保存：赤坎区 截止时间 请至少填写一个截止时间；要恢复继承上级的设置，请删除这一行。"
    with pytest.raises(ServiceError) as exc:
        services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                       deadline="九月十日")
    assert exc.value.errors == [{"row": "赤坎区", "column": "推荐截止时间",
                                 "message": "“九月十日”不是有效的日期，请写成 2024-09-20 或 2024-09-20 17:00。"}]
    with pytest.raises(ServiceError) as exc:
        services.set_deadline_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.school,
                                       deadline="2024-09-10")
    assert exc.value.errors[0]["message"] == "县（市、区）层级的截止时间只能设给县（市、区）或其上级单位，不能设给学校。"
    with pytest.raises(ServiceError) as exc:
        services.set_deadline_override(tree.province_admin, guangdong_level := zhanjiang, level_kind="province",
                                       unit=tree.county, deadline="2024-09-10")
    assert exc.value.message == "本活动没有“省”层级，请先在“层级与截止时间”中添加。"
    assert guangdong_level.pk == zhanjiang.pk and DeadlineOverride.objects.count() == 0


def test_a_county_admin_cannot_set_his_own_level(tree, zhanjiang):
    with pytest.raises(PermissionDenied) as exc:
        services.set_deadline_override(tree.county_admin, zhanjiang, level_kind="county", unit=tree.county,
                                       deadline="2024-09-25")
    assert str(exc.value) == "县（市、区）层级的截止时间和名额由上级单位设置，您不能为“赤坎区”设置。"


def test_the_city_sets_a_countys_deadline(tree, zhanjiang):
    services.set_deadline_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.county,
                                   deadline="2024-09-18")
    assert services.deadlines_for(zhanjiang, tree.county)[0].deadline_label == "本单位设置"
    assert services.deadlines_for(zhanjiang, tree.school)[1].deadline_label == "继承自赤坎区"


# --- quotas ------------------------------------------------------------------------------------------
def test_quota_override_for_one_county(tree, zhanjiang):
    q = services.set_quota_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.county,
                                    category="subject", limit=28)
    assert services.quota_for(zhanjiang, tree.county, "subject") == q
    assert services.quota_for(zhanjiang, tree.other_county, "subject").limit == 25
    e = Event.objects.get(action="campaigns.quota_override.set")
    assert (e.after, e.unit_path) == ({"school_owner_kind": "", "category": "subject", "subject": "",
                                       "per_subject": False, "limit": 28, "level": "county", "unit": "440802"},
                                      tree.county.path)
    services.delete_quota_override(tree.city_admin, zhanjiang, q.pk)
    assert services.quota_for(zhanjiang, tree.county, "subject").limit == 25


def test_a_county_sets_quotas_for_its_schools_only(tree, zhanjiang):
    q = services.set_quota_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.school,
                                    category="subject", subject="语文", limit=2)
    assert services.quota_for(zhanjiang, tree.school, "subject", "语文") == q
    assert services.quota_for(zhanjiang, tree.school, "subject", "数学") is None
    with pytest.raises(PermissionDenied):
        services.set_quota_override(tree.county_admin, zhanjiang, level_kind="county", unit=tree.county,
                                    category="subject", limit=99)
    with pytest.raises(Http404):
        services.set_quota_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.other_school,
                                    category="subject", limit=2)
    with pytest.raises(ServiceError) as exc:
        services.set_quota_override(tree.county_admin, zhanjiang, level_kind="school", unit=tree.county,
                                    category="subject", limit=2)
    assert exc.value.errors == [{"row": "赤坎区", "column": "单位", "message": "学校层级的名额只能设给学校单位。"}]


def test_default_quotas_replace_and_validate(tree, zhanjiang):
    rows = [{"level": "county", "category": "subject", "limit": 20},
            {"level": "school", "school_owner_kind": "city", "category": "subject", "per_subject": True, "limit": 2}]
    result = services.set_default_quotas(tree.city_admin, zhanjiang, rows)
    assert [(q.level.kind, q.category, q.limit) for q in result] == [("school", "subject", 2), ("county", "subject", 20)]
    assert services.quota_for(zhanjiang, tree.county, "special") is None
    with pytest.raises(ServiceError) as exc:
        services.set_default_quotas(tree.city_admin, zhanjiang, [{"level": "province", "category": "subject",
                                                                  "limit": 1}])
    assert exc.value.errors == [{"row": "名额 1", "column": "层级", "message": "本活动没有省层级。"}]
    assert Quota.objects.filter(campaign=zhanjiang).count() == 2  # nothing lost
    with pytest.raises(PermissionDenied):
        services.set_default_quotas(tree.county_admin, zhanjiang, rows)


# --- editing the parts --------------------------------------------------------------------------------
def test_create_and_update_a_campaign(tree):
    c = services.create_campaign(tree.city_admin, tree.city, year=2025, title="2025年湛江市精品课")
    assert (c.status, c.owner) == (CampaignStatus.DRAFT, tree.city)
    with pytest.raises(ServiceError) as exc:
        services.update_campaign(tree.city_admin, c, year=2025, title="2025年湛江市精品课", status="open")
    assert exc.value.message == "活动还不能开始：请先设置类别、层级。"
    services.update_campaign(tree.city_admin, c, year=2025, title="2025年湛江市基础教育精品课", description="说明")
    e = Event.objects.get(action="campaigns.campaign.update")
    assert (e.before["title"], e.after["title"]) == ("2025年湛江市精品课", "2025年湛江市基础教育精品课")
    with pytest.raises(PermissionDenied):
        services.create_campaign(tree.county_admin, tree.city, year=2025, title="x")
    with pytest.raises(PermissionDenied):
        services.create_campaign(tree.city_admin, tree.other_city, year=2025, title="x")
    with pytest.raises(ServiceError) as exc:
        services.create_campaign(tree.city_admin, tree.city, year=1999, title="")
    assert exc.value.errors == [{"row": "基本信息", "column": "年度", "message": "应在 2000 到 2100 之间。"},
                                {"row": "基本信息", "column": "活动名称", "message": "必须填写。"}]


def test_new_category_starts_with_the_standard_package(tree):
    c = services.create_campaign(tree.city_admin, tree.city, year=2025, title="t")
    services.set_categories(tree.city_admin, c, [{"category": "special", "max_periods": 3, "default_periods": 1}])
    slots = c.categories.get().slots.all()
    assert [(s.label, s.required) for s in slots] == [("微课视频", True), ("教学设计", True), ("学习任务单", True),
                                                      ("课件", True), ("作业练习", False)]


def test_a_category_with_quotas_cannot_be_removed(tree, zhanjiang):
    with pytest.raises(ServiceError) as exc:
        services.set_categories(tree.city_admin, zhanjiang, [{"category": "subject"}, {"category": "special"}])
    assert exc.value.message == "“实验教学”还有名额设置，请先删除它的名额，再删除这个类别。"
    assert zhanjiang.categories.count() == 3


def test_slots_and_specs(tree, zhanjiang):
    services.set_slots(tree.city_admin, zhanjiang, "special", [
        {"kind": "video", "formats": ["mp4"], "max_size_mb": 1024}, {"kind": "slides", "formats": "pptx、pdf"}])
    assert [(s.kind, s.formats, s.max_size_mb) for s in zhanjiang.categories.get(category="special").slots.all()] == [
        ("video", ["mp4"], 1024), ("slides", ["pptx", "pdf"], 50)]
    services.set_specs(tree.city_admin, zhanjiang, "experiment", [{"stage": "", "min_duration_s": 2400,
                                                                    "max_duration_s": 2700}])
    assert services.spec_for(zhanjiang, "experiment", "junior").max_duration_s == 2700
    with pytest.raises(Http404):
        services.set_slots(tree.city_admin, zhanjiang, "music", [])
    with pytest.raises(ServiceError) as exc:
        services.set_slots(tree.city_admin, zhanjiang, "subject", [])
    assert exc.value.errors == [{"row": "学科课程", "column": "资源项", "message": "至少要有一个资源项。"}]
    assert Event.objects.filter(action__in=["campaigns.slots.update", "campaigns.specs.update"]).count() == 2


def test_levels_keep_deadlines_and_refuse_removing_used_ones(tree, zhanjiang):
    rows = [{"kind": "school", "name": "学校推荐", "deadline": "2024-09-15"},
            {"kind": "county", "name": "县级初选", "deadline": "2024-09-20 12:00", "contact_form_deadline": "2024-08-26"},
            {"kind": "city", "name": "市级遴选", "award_name": "市级精品课", "deadline": "2024-09-27"}]
    zhanjiang.levels.filter(kind="county").update(required_resources=["video"])
    levels = services.set_levels(tree.city_admin, zhanjiang, rows)
    assert [lv.required_resources for lv in levels] == [[], ["video"], []]
    assert [(lv.kind, lv.deadline) for lv in levels] == [
        ("school", eod(9, 15)), ("county", datetime(2024, 9, 20, 12, 0, tzinfo=CST)), ("city", eod(9, 27))]
    with pytest.raises(ServiceError) as exc:
        services.set_levels(tree.city_admin, zhanjiang, rows[1:])
    assert exc.value.message == "“学校推荐”还有名额或单位截止时间，请先删除它们，再删除这个层级。"
    with pytest.raises(ServiceError) as exc:
        services.set_levels(tree.city_admin, zhanjiang, rows + [{"kind": "province", "name": "省级"}])
    assert exc.value.errors == [{"row": "省层级", "column": "层级", "message": "高于主办单位（市），主办单位不能管理上级的层级。"}]


def test_rules_and_contacts(tree, zhanjiang):
    services.update_rules(tree.city_admin, zhanjiang, {
        "node_rule": "warn", "new_textbook_grades": ["一年级"],
        "share_caps": [{"level": "city", "category": "special", "subjects": ["语文"], "max_percent": 50,
                        "applies_to": "recommendations"}], "target_shares": []})
    zhanjiang.refresh_from_db()
    assert (zhanjiang.node_rule, zhanjiang.new_textbook_grades, zhanjiang.share_caps[0]["max_percent"]) == (
        "warn", ["一年级"], 50)
    e = Event.objects.get(action="campaigns.rules.update")
    assert (e.before["node_rule"], e.after["node_rule"]) == ("block", "warn")
    services.set_contacts(tree.city_admin, zhanjiang, [{"unit_name": "湛江市教育装备中心", "name": "李仁勃",
                                                        "phone": "0759-3201457", "category": "subject"}])
    assert [(c.name, c.phone) for c in zhanjiang.contacts.all()] == [("李仁勃", "0759-3201457")]
    with pytest.raises(ServiceError) as exc:
        services.set_contacts(tree.city_admin, zhanjiang, [{"unit_name": "x", "name": "", "phone": "1",
                                                            "email": "bad"}])
    assert exc.value.errors == [{"row": "联系人 1", "column": "邮箱", "message": "“bad”不是有效的邮箱地址。"},
                                {"row": "联系人 1", "column": "姓名", "message": "必须填写。"}]
    assert zhanjiang.contacts.count() == 1


def test_notices_with_attachments(tree, zhanjiang):
    upload = SimpleUploadedFile("通知.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    n = services.add_notice(tree.city_admin, zhanjiang, {"title": "补充通知", "published_on": "2024-08-01"}, upload)
    assert (n.original_name, n.order, str(n.published_on)) == ("通知.pdf", 3, "2024-08-01")
    assert n.file.name.startswith(f"notices/{zhanjiang.pk}/") and n.file.name.endswith(".pdf")
    response = served(services.notice_response(tree.teacher, zhanjiang, n), headers={})
    assert body_of(response) == b"%PDF-1.4 test"
    assert "attachment" in response["Content-Disposition"] and "%E9%80%9A%E7%9F%A5.pdf" in response["Content-Disposition"]
    with pytest.raises(ServiceError) as exc:
        services.add_notice(tree.city_admin, zhanjiang, {"title": "x"}, SimpleUploadedFile("a.exe", b"MZ"))
    assert exc.value.message.startswith("附件“a.exe”的格式不支持，请上传 ")
    services.update_notice(tree.city_admin, zhanjiang, n, {"title": "补充通知（修订）"}, remove_file=True)
    n.refresh_from_db()
    assert (n.title, bool(n.file)) == ("补充通知（修订）", False)
    with pytest.raises(Http404):
        services.notice_response(tree.teacher, zhanjiang, n)
    services.delete_notice(tree.city_admin, zhanjiang, n)
    assert [e.action for e in Event.objects.filter(action__startswith="campaigns.notice").order_by("pk")] == [
        "campaigns.notice.add", "campaigns.notice.update", "campaigns.notice.delete"]


@pytest.mark.skipif(s3_test_run(), reason="X-Accel-Redirect is for local storage behind nginx")
def test_notice_download_is_sent_by_nginx_when_configured(tree, zhanjiang, settings):
    upload = SimpleUploadedFile("通知.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    n = services.add_notice(tree.city_admin, zhanjiang, {"title": "补充通知", "published_on": "2024-08-01"}, upload)
    settings.X_ACCEL_REDIRECT = "/internal-media/"
    response = services.notice_response(tree.teacher, zhanjiang, n)
    assert response["X-Accel-Redirect"] == f"/internal-media/{n.file.name}"
    assert response.content == b"" and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"] and response["Cache-Control"] == "private, no-store"
    n.file.storage.delete(n.file.name)
    with pytest.raises(Http404):  # a lost file is our 404, not nginx's
        services.notice_response(tree.teacher, zhanjiang, n)
