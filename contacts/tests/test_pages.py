"""The contact-form pages (plain multipart posts): the county admin fills, uploads and files; the
city sees every reporting unit, opens the scan, reopens after the deadline, downloads the Excel;
the home page and the navigation link to it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts import services
from contacts.models import ContactForm
from contacts.tests.helpers import docx_bytes, pdf_upload, upload
from jingpinke.s3server import body_of, served

pytestmark = pytest.mark.django_db


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def url(campaign, unit, part=""):
    return f"/contacts/campaigns/{campaign.pk}/units/{unit.pk}/{part}"


def post_rows(rows, **extra):
    data = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"p-{i}-{key}"] = value
    return {**data, **extra}


def test_the_county_admin_is_sent_to_his_form_and_sees_the_navigation(client, tree, campaign):
    client.force_login(tree.county_admin)
    response = client.get("/contacts/")
    assert (response.status_code, response["Location"]) == (302, url(campaign, tree.county))
    response = client.get(url(campaign, tree.county))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/contacts/"' in html  # the navigation link 工作联系表
    assert "赤坎区 · 工作联系表" in html and "未填写" in html
    assert 'name="p-0-name"' in html and 'name="scan"' in html and "保存并提交" in html
    assert "提交前还需：至少填写一位联系人；上传加盖公章的扫描件（PDF、JPG 或 PNG）。" in html


def test_fill_upload_and_file_in_one_post(client, tree, campaign, rows):
    client.force_login(tree.county_admin)
    data = post_rows(rows + [{"name": "", "position": "", "mobile": "", "remark": ""}], action="file",
                     scan=pdf_upload("赤坎区联系表.pdf"))
    response = client.post(url(campaign, tree.county), data, follow=True)
    assert messages_of(response) == ["已上传扫描件“赤坎区联系表.pdf”。", "工作联系表已提交，湛江市可以看到。截止前仍可修改。"]
    form = ContactForm.objects.get(unit=tree.county)
    assert (form.filed, form.scan.kind, [p.name for p in form.people.all()]) == (True, "pdf", ["黄志明", "陈丽娟"])
    assert list(form.people.values_list("categories", flat=True)) == [["subject", "special"], ["experiment"]]
    html = response.content.decode()
    assert "已提交" in html and "保存并提交" not in html and "赤坎区联系表.pdf" in html
    # Remove a person with the tick box and save.
    data = post_rows(rows, action="save")
    data["p-1-delete"] = "1"
    response = client.post(url(campaign, tree.county), data, follow=True)
    assert messages_of(response) == ["已保存。"]
    assert [p.name for p in form.people.all()] == ["黄志明"]


def test_a_bad_row_keeps_what_was_typed_and_saves_nothing(client, tree, campaign, rows):
    client.force_login(tree.county_admin)
    bad = [rows[0], {**rows[1], "mobile": "1380013", "name": "陈丽娟"}]
    response = client.post(url(campaign, tree.county), post_rows(bad, action="save"))
    html = response.content.decode()
    assert response.status_code == 400
    assert messages_of(response) == ["联系人信息有 1 处需要修改：第 2 位联系人：“1380013”不是有效的手机号码，请填写 11 位手机号码，例如 13800138000。"]
    assert 'value="1380013"' in html and 'value="陈丽娟"' in html and 'aria-invalid="true"' in html
    assert not ContactForm.objects.filter(unit=tree.county).exists()


def test_filing_without_a_scan_saves_the_people_and_says_what_is_missing(client, tree, campaign, rows):
    client.force_login(tree.county_admin)
    response = client.post(url(campaign, tree.county), post_rows(rows, action="file"), follow=True)
    assert messages_of(response) == ["已保存。还不能提交：请上传加盖公章的扫描件（PDF、JPG 或 PNG）。"]
    form = ContactForm.objects.get(unit=tree.county)
    assert (form.people.count(), form.filed) == (2, False)


def test_a_word_file_named_pdf_is_refused_on_the_page(client, tree, campaign, rows):
    client.force_login(tree.county_admin)
    response = client.post(url(campaign, tree.county),
                           post_rows(rows, action="file", scan=upload("联系表.pdf", docx_bytes())))
    assert response.status_code == 400
    assert messages_of(response) == [
        "“联系表.pdf”的内容是Word 文档（docx），不是 PDF、JPG 或 PNG（按文件内容判断，与扩展名无关）。请上传加盖公章后的扫描件或照片。"]
    form = ContactForm.objects.get(unit=tree.county)
    assert (form.people.count(), form.scan, form.filed) == (2, None, False)  # the people were saved


def test_after_the_deadline_the_form_is_read_only_until_the_city_reopens(client, tree, campaign, rows):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    campaign.levels.filter(kind="county").update(contact_form_deadline=timezone.now() - timedelta(minutes=1))
    client.force_login(tree.county_admin)
    response = client.get(url(campaign, tree.county))
    html = response.content.decode()
    assert "已过截止时间，不能再修改或提交。" in html and 'name="p-0-name"' not in html and "黄志明" in html
    response = client.post(url(campaign, tree.county), post_rows(rows[:1], action="save"))
    assert response.status_code == 400
    assert messages_of(response)[0].startswith("工作联系表已于 ")
    assert client.post(url(campaign, tree.county, "reopen/"), {"deadline_date": "2099-03-01", "reason": "补报"}
                       ).status_code == 403
    client.force_login(tree.city_admin)
    response = client.post(url(campaign, tree.county, "reopen/"),
                           {"deadline_date": "2099-03-01", "deadline_time": "17:00", "reason": "系统故障补报"}, follow=True)
    assert messages_of(response) == ["已为赤坎区重新开放工作联系表，新的截止时间为 2099-03-01 17:00。"]
    response = client.post(url(campaign, tree.county, "reopen/"), {"deadline_date": "", "reason": "x"}, follow=True)
    assert messages_of(response) == ["新的截止时间必须晚于现在。"]
    client.force_login(tree.county_admin)
    assert 'name="p-0-name"' in client.get(url(campaign, tree.county)).content.decode()


def test_the_city_sees_every_reporting_unit(client, tree, campaign, rows, django_assert_max_num_queries):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    services.file_form(tree.county_admin, campaign, tree.county)
    services.save_people(tree.other_county_admin, campaign, tree.other_county, rows[1:])
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(16):
        response = client.get("/contacts/")
    html = response.content.decode()
    assert [(d.unit.name, d.status_label) for d in response.context["board"]] == [
        ("赤坎区", "已提交"), ("霞山区", "已填写未提交"), ("湛江市第一中学", "未填写")]
    assert "已提交 1 / 3 个单位。" in html
    assert f'href="{url(campaign, tree.county, "scan/")}"' in html
    assert f'href="/contacts/campaigns/{campaign.pk}/export.xlsx"' in html
    assert "黄志明、陈丽娟" in html and "为赤坎区重新开放" in html
    # The board costs the same with more units filing.
    for unit, admin_name in ((tree.city_school, "c1"),):
        from orgs.models import Role
        from orgs.tests.factories import member

        admin = member(unit, Role.ADMIN, username=admin_name)
        services.save_people(admin, campaign, unit, rows[:1])
    with django_assert_max_num_queries(16):
        client.get("/contacts/")
    # The city reads a county's form but cannot change it.
    response = client.get(url(campaign, tree.county))
    html = response.content.decode()
    assert response.status_code == 200 and 'name="p-0-name"' not in html and "13800138021" in html
    assert client.post(url(campaign, tree.county), post_rows(rows, action="save")).status_code == 403


def test_the_scan_is_served_to_the_unit_and_the_level_above(client, tree, campaign):
    services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    for user in (tree.county_admin, tree.city_admin, tree.province_admin):
        client.force_login(user)
        response = served(client.get(url(campaign, tree.county, "scan/")))
        assert (response.status_code, response["Content-Type"]) == (200, "application/pdf"), user
        assert body_of(response).startswith(b"%PDF-")
    assert client.get(url(campaign, tree.other_county, "scan/")).status_code == 404  # nothing uploaded


def test_a_county_school_admin_is_told_his_unit_does_not_file(client, tree, campaign):
    client.force_login(tree.school_admin)
    response = client.get("/contacts/")
    assert response.status_code == 200
    assert "您所在的单位不需要填写" in response.content.decode()
    assert client.get(url(campaign, tree.school)).status_code == 404


def test_the_home_page_links_the_contact_form(client, tree, campaign):
    client.force_login(tree.county_admin)
    html = client.get("/").content.decode()
    assert '<li data-step="contact_form"><a href="/contacts/">填写工作联系表并上传盖章扫描件</a>' in html
    client.force_login(tree.city_admin)
    html = client.get("/").content.decode()
    assert '<li data-step="contact_board"><a href="/contacts/">查看各单位工作联系表的报送情况，下载汇总 Excel</a>' in html
