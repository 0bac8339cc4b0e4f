"""Pages: list, detail, the edit pages of the owner, unit deadlines and quotas, notices, templates."""

import json
from datetime import datetime, timedelta, timezone

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Event
from campaigns import services
from campaigns.models import Campaign, DeadlineOverride, Quota
from jingpinke.s3server import body_of, served

CST = timezone(timedelta(hours=8))


def formset_post(rows, prefix="form", initial=0, extra=None):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value is False or value is None:
                continue
            data[f"{prefix}-{i}-{key}"] = value
    data.update(extra or {})
    return data


def url(name, campaign=None, *args):
    return reverse(f"campaigns:{name}", args=([campaign.pk] if campaign else []) + list(args))


# --- list and detail --------------------------------------------------------------------------------
def test_list_shows_the_campaigns_that_concern_the_user(client, tree, zhanjiang, guangdong, maoming,
                                                        django_assert_max_num_queries):
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(8):
        response = client.get(url("list"))
    assert response.status_code == 200
    assert [c.title for c in response.context["page_obj"]] == ["2024年广东省基础教育精品课遴选",
                                                               "2024年湛江市基础教育精品课遴选"]
    assert response.context["editable"] == set()
    assert response.context["can_create"] is False
    client.force_login(tree.city_admin)
    response = client.get(url("list"))
    assert response.context["editable"] == {zhanjiang.pk}
    assert "从内置模板创建" in response.content.decode()


def test_list_query_count_does_not_grow(client, tree, zhanjiang, django_assert_max_num_queries):
    for i in range(5):
        services.create_campaign(tree.city_admin, tree.city, year=2025, title=f"活动{i}")
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(8):
        response = client.get(url("list"))
    assert len(response.context["page_obj"]) == 6


def test_detail_shows_everything(client, tree, zhanjiang, django_assert_max_num_queries):
    client.force_login(tree.teacher)
    with django_assert_max_num_queries(20):
        response = client.get(url("detail", zhanjiang))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ["县级初选", "2024-09-20 23:59", "2024-08-26 23:59", "微课视频", "作业练习", "导学案", "600–900 秒",
                 "MP4 · H264 · 1920×1080 · 25 fps · 8000 kbps", "AAC 128 kbps", "≤ 1024 MB",
                 "语文、数学、生活适应合计占比不超过 80%", "适当加大科学类精品课推荐数量", "李仁勃", "3201457",
                 "关于开展2024年湛江市“基础教育精品课”遴选工作的通知", "湛江市第二十一小学的截止时间", "活动默认",
                 "须使用新教材的起始年级：一年级、七年级", "每学科分别计算"]:
        assert text in html, text
    assert response.context["can_change"] is False
    assert "基本信息与状态" not in html
    assert [d.level.kind for d in response.context["my_deadlines"]] == ["school", "county", "city"]


def test_detail_of_a_campaign_that_does_not_concern_the_user_is_404(client, tree, maoming):
    client.force_login(tree.county_admin)
    assert client.get(url("detail", maoming)).status_code == 404


def test_anonymous_is_sent_to_login(client, zhanjiang):
    response = client.get(url("detail", zhanjiang))
    assert (response.status_code, response.url.split("?")[0]) == (302, "/accounts/login/")


# --- basic info -------------------------------------------------------------------------------------
def test_edit_basic_info(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    response = client.post(url("edit", zhanjiang), {"year": "2024", "title": "2024年湛江市精品课", "status": "closed",
                                                   "description": "已结束"})
    assert response.status_code == 302
    zhanjiang.refresh_from_db()
    assert (zhanjiang.title, zhanjiang.status) == ("2024年湛江市精品课", "closed")
    client.force_login(tree.county_admin)
    assert client.get(url("edit", zhanjiang)).status_code == 403


def test_create_a_blank_campaign(client, tree):
    client.force_login(tree.city_admin)
    response = client.post(url("create"), {"owner": tree.city.pk, "year": "2025", "title": "2025年湛江市精品课"})
    campaign = Campaign.objects.get()
    assert response.url == url("detail", campaign)
    assert list(client.get(url("create")).context["form"].fields["owner"].queryset) == [tree.city]
    client.force_login(tree.county_admin)
    assert client.get(url("create")).status_code == 403


# --- formset pages ------------------------------------------------------------------------------------
def test_levels_page_date_only_means_end_of_day(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    page = client.get(url("levels", zhanjiang))
    assert [f.initial["kind"] for f in page.context["formset"].initial_forms] == ["school", "county", "city"]
    assert page.context["formset"].initial_forms[1].initial["deadline_time"] is None
    rows = [{"kind": "school", "name": "学校推荐", "deadline_date": "2024-09-15"},
            {"kind": "county", "name": "县级初选", "deadline_date": "2024-09-20", "deadline_time": "12:00",
             "contact_form_deadline_date": "2024-08-26"},
            {"kind": "city", "name": "市级遴选", "deadline_date": "2024-09-27"}]
    response = client.post(url("levels", zhanjiang), formset_post(rows, initial=3))
    assert response.status_code == 302
    levels = {lv.kind: lv for lv in zhanjiang.levels.all()}
    assert levels["school"].deadline.isoformat() == "2024-09-15T15:59:59+00:00"
    assert levels["county"].deadline == datetime(2024, 9, 20, 12, 0, tzinfo=CST)
    assert levels["city"].confirm_deadline is None


def test_levels_page_keeps_input_and_explains_a_time_without_date(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    rows = [{"kind": "county", "name": "县级初选", "deadline_time": "12:00"}]
    response = client.post(url("levels", zhanjiang), formset_post(rows, initial=1))
    assert response.status_code == 200
    form = response.context["formset"].forms[0]
    assert form.errors == {"deadline_date": ["填写了时间，请同时填写日期。"]}
    assert form["name"].value() == "县级初选"
    assert zhanjiang.levels.count() == 3


def test_a_service_refusal_is_shown_with_the_reasons(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    rows = [{"kind": "county", "name": "县级初选"}, {"kind": "city", "name": "市级遴选"}]
    response = client.post(url("levels", zhanjiang), formset_post(rows, initial=2))
    assert response.status_code == 200
    assert response.context["import_error"]["message"] == "“学校推荐”还有名额或单位截止时间，请先删除它们，再删除这个层级。"
    assert "“学校推荐”还有名额或单位截止时间" in response.content.decode()


def test_categories_slots_specs_contacts_pages(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    cats = [{"category": "subject", "max_periods": "3", "default_periods": "1", "max_team_members": "5"},
            {"category": "special", "max_periods": "3", "default_periods": "1", "max_team_members": "4"},
            {"category": "experiment", "max_periods": "2", "default_periods": "1", "max_team_members": "6"}]
    assert client.post(url("categories", zhanjiang), formset_post(cats, initial=3)).status_code == 302
    assert {c.category: c.max_team_members for c in zhanjiang.categories.all()} == {
        "subject": 5, "special": 4, "experiment": 6}
    slots = [{"kind": "video", "label": "微课视频", "required": True, "formats": "mp4", "max_size_mb": "1024"},
             {"kind": "slides", "label": "课件", "required": False, "formats": "pptx、pdf", "max_size_mb": "100"}]
    assert client.post(url("slots", zhanjiang, "special"), formset_post(slots)).status_code == 302
    assert [(s.kind, s.required, s.formats) for s in zhanjiang.categories.get(category="special").slots.all()] == [
        ("video", True, ["mp4"]), ("slides", False, ["pptx", "pdf"])]
    spec = {"stage": "", "container": "mp4", "video_codec": "h264", "width": "1920", "height": "1080", "fps": "25",
            "video_bitrate_kbps": "8000", "audio_codec": "aac", "audio_bitrate_kbps": "128", "min_duration_s": "2400",
            "max_duration_s": "2700", "max_size_mb": "2048", "title_card_seconds": "5"}
    assert client.post(url("specs", zhanjiang, "experiment"), formset_post([spec])).status_code == 302
    assert services.spec_for(zhanjiang, "experiment", "primary").max_size_mb == 2048
    contacts = [{"category": "", "unit_name": "湛江市教育装备中心", "name": "李仁勃", "phone": "3201457"}]
    assert client.post(url("contacts", zhanjiang), formset_post(contacts, initial=1)).status_code == 302
    assert [c.name for c in zhanjiang.contacts.all()] == ["李仁勃"]
    assert client.get(url("slots", zhanjiang, "music")).status_code == 404


def test_formset_delete_flag_removes_a_row(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    rows = [{"unit_name": c.unit_name, "name": c.name, "phone": c.phone} for c in zhanjiang.contacts.all()]
    rows[0]["DELETE"] = True
    client.post(url("contacts", zhanjiang), formset_post(rows, initial=4))
    assert [c.name for c in zhanjiang.contacts.all()] == ["包丹", "林力文", "周剑伟"]


def test_rules_page(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    page = client.get(url("rules", zhanjiang))
    assert page.context["caps"].initial_forms[0].initial["subjects"] == "语文、数学、生活适应"
    data = {"node_rule": "warn", "new_textbook_grades": "一年级，七年级"}
    data.update(formset_post([{"level": "city", "category": "special", "subjects": "语文、数学", "max_percent": "70",
                               "applies_to": "awards"}], prefix="caps"))
    data.update(formset_post([{"level": "city", "category": "subject", "subjects": "物理 化学", "min_percent": "30",
                               "note": ""}], prefix="targets"))
    assert client.post(url("rules", zhanjiang), data).status_code == 302
    zhanjiang.refresh_from_db()
    assert (zhanjiang.node_rule, zhanjiang.new_textbook_grades) == ("warn", ["一年级", "七年级"])
    assert zhanjiang.share_caps == [{"level": "city", "category": "special", "subjects": ["语文", "数学"],
                                     "max_percent": 70, "applies_to": "awards"}]
    assert zhanjiang.target_shares == [{"level": "city", "category": "subject", "subjects": ["物理", "化学"],
                                        "min_percent": 30, "note": ""}]


# --- unit deadlines and quotas -------------------------------------------------------------------------
def test_county_admin_sets_his_schools_deadline_and_sees_where_it_comes_from(client, tree, zhanjiang):
    client.force_login(tree.county_admin)
    page = client.get(url("overrides", zhanjiang))
    assert list(page.context["form"].fields["unit"].queryset) == [tree.county, tree.school]
    assert [c[0] for c in page.context["form"].fields["level"].choices] == ["school", "county", "city"]
    response = client.post(url("overrides", zhanjiang), {"level": "school", "unit": tree.county.pk,
                                                         "deadline_date": "2024-09-10", "reason": "区县初选"})
    assert response.status_code == 302
    page = client.get(url("overrides", zhanjiang) + f"?unit={tree.school.pk}")
    html = page.content.decode()
    assert "继承自赤坎区" in html and "区县初选" in html
    assert page.context["shown_deadlines"][0].deadline.isoformat() == "2024-09-10T15:59:59+00:00"
    o = DeadlineOverride.objects.get()
    assert client.post(url("override_delete", zhanjiang, o.pk)).status_code == 302
    assert DeadlineOverride.objects.count() == 0


def test_county_admin_cannot_set_his_own_county_level(client, tree, zhanjiang):
    client.force_login(tree.county_admin)
    response = client.post(url("overrides", zhanjiang), {"level": "county", "unit": tree.county.pk,
                                                         "deadline_date": "2024-09-25"})
    assert response.status_code == 403
    assert DeadlineOverride.objects.count() == 0


def test_quota_pages(client, tree, zhanjiang, django_assert_max_num_queries):
    client.force_login(tree.city_admin)
    response = client.post(url("quotas", zhanjiang), {"level": "county", "unit": tree.county.pk,
                                                      "category": "subject", "limit": "30"})
    assert response.status_code == 302
    page = client.get(url("quotas", zhanjiang) + f"?unit={tree.county.pk}")
    assert [(label, q.limit) for label, q in page.context["shown_quotas"]] == [
        ("学科课程", 30), ("特殊教育", 1), ("实验教学", 10)]
    rows = [services.quota_row(q) for q in services.default_quotas(zhanjiang)]
    assert [(r["level"], r["school_owner_kind"], r["category"], r["limit"]) for r in rows] == [
        ("school", "city", "experiment", 1), ("school", "city", "special", 1), ("school", "city", "subject", 1),
        ("county", "", "experiment", 10), ("county", "", "special", 1), ("county", "", "subject", 25)]
    rows[5]["limit"] = 20
    response = client.post(url("default_quotas", zhanjiang), formset_post(rows, initial=len(rows)))
    assert response.status_code == 302
    assert services.quota_for(zhanjiang, tree.other_county, "subject").limit == 20
    assert services.quota_for(zhanjiang, tree.city_school, "subject", "语文").limit == 1
    q = Quota.objects.get(unit=tree.county)
    assert client.post(url("quota_delete", zhanjiang, q.pk)).status_code == 302
    with django_assert_max_num_queries(25):
        assert client.get(url("quotas", zhanjiang)).status_code == 200


# --- notices --------------------------------------------------------------------------------------------
def test_notice_upload_and_permission_checked_download(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    upload = SimpleUploadedFile("工作联系表.docx", b"PK docx", content_type="application/octet-stream")
    response = client.post(url("notices", zhanjiang), {"title": "工作联系表", "issuer": "湛江市教育局", "file": upload})
    assert response.status_code == 302
    notice = zhanjiang.notices.get(title="工作联系表")
    client.force_login(tree.teacher)
    download = served(client.get(url("notice_file", zhanjiang, notice.pk)))
    assert download.status_code == 200
    assert body_of(download) == b"PK docx"
    assert "attachment" in download["Content-Disposition"]
    client.force_login(tree.city_admin)
    response = client.post(url("notice_edit", zhanjiang, notice.pk), {"title": "工作联系表（附件2）", "remove_file": "on"})
    assert response.status_code == 302
    notice.refresh_from_db()
    assert (notice.title, bool(notice.file)) == ("工作联系表（附件2）", False)
    assert client.post(url("notice_delete", zhanjiang, notice.pk)).status_code == 302
    assert not zhanjiang.notices.filter(pk=notice.pk).exists()


def test_notice_with_a_bad_file_keeps_the_form(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    response = client.post(url("notices", zhanjiang), {"title": "补充通知", "body": "正文",
                                                       "file": SimpleUploadedFile("x.exe", b"MZ")})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()[0].startswith("附件“x.exe”的格式不支持")
    assert response.context["form"]["body"].value() == "正文"


# --- templates --------------------------------------------------------------------------------------
def test_export_import_and_from_template_pages(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    exported = client.get(url("export", zhanjiang))
    assert exported["Content-Disposition"] == 'attachment; filename="campaign-440800-2024.json"'
    doc = json.loads(exported.content)
    response = client.post(url("import"), {"file": SimpleUploadedFile("t.json", exported.content), "owner": tree.city.pk,
                                           "year_offset": "1", "title": ""})
    assert response.status_code == 302
    assert Campaign.objects.filter(year=2025, title="2025年湛江市基础教育精品课遴选").count() == 1
    doc["levels"] = "oops"
    bad = client.post(url("import"), {"file": SimpleUploadedFile("t.json", json.dumps(doc).encode()),
                                      "owner": tree.city.pk, "year_offset": "2"})
    assert bad.status_code == 200
    assert bad.context["import_error"]["errors"][0] == {"row": "文件", "column": "levels", "message": "应为列表（[…]）。"}
    assert "这不是有效的活动模板" in bad.content.decode()
    page = client.get(url("from_template"))
    assert [c[0] for c in page.context["form"].fields["template"].choices] == ["guangdong-2024", "zhanjiang-2024"]
    response = client.post(url("from_template"), {"template": "zhanjiang-2024", "owner": tree.city.pk,
                                                  "year_offset": "0", "title": "2024年湛江市精品课（演练）"})
    assert response.status_code == 302
    created = Campaign.objects.get(title="2024年湛江市精品课（演练）")
    assert (created.status, created.owner) == ("draft", tree.city)
    assert Event.objects.filter(action="campaigns.campaign.import").count() == 3


def test_pages_fit_a_phone(client, tree, zhanjiang):
    """Every table is wrapped for horizontal scrolling; forms have no fixed widths wider than a phone."""
    client.force_login(tree.city_admin)
    for name, args in [("detail", []), ("overrides", []), ("quotas", [])]:
        html = client.get(url(name, zhanjiang, *args)).content.decode()
        assert html.count("<table") == html.count('<div class="table-wrap"><table'), name
