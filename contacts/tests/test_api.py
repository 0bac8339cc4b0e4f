"""The contact form in the REST API (/api/v1/contacts): my forms, get/put the people, upload or
attach the scan, file it, the organiser's status list and export, reopen; refusals; OpenAPI."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import ContactForm
from contacts.tests.helpers import docx_bytes, pdf_upload, upload
from jingpinke.s3server import served
from media.models import StoredFile

pytestmark = pytest.mark.django_db
BASE = "/api/v1/contacts"


def unit_url(campaign, unit, part=""):
    return f"{BASE}/campaigns/{campaign.pk}/units/{unit.pk}{part}"


def put(client, path, body, **headers):
    return client.put(path, json.dumps(body), content_type="application/json", **headers)


def test_fill_upload_and_file_through_the_api(client, tree, campaign, rows, bearer):
    headers = bearer(tree.county_admin)
    mine = client.get(f"{BASE}/campaigns/{campaign.pk}/mine", **headers).json()
    assert [(f["unit_name"], f["status"], f["status_label"], f["can_edit"]) for f in mine] == [
        ("赤坎区", "missing", "未填写", True)]
    assert mine[0]["missing"] == ["至少填写一位联系人", "上传加盖公章的扫描件（PDF、JPG 或 PNG）"]

    r = put(client, unit_url(campaign, tree.county, "/form"), {"people": rows}, **headers)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert [(p["name"], p["mobile"], p["categories"], p["category_labels"]) for p in body["people"]] == [
        ("黄志明", "13800138021", ["subject", "special"], ["学科课程", "特殊教育"]),
        ("陈丽娟", "13800138022", ["experiment"], ["实验教学"])]
    assert (body["status"], body["updated_by"], body["scan"]) == ("draft", tree.county_admin.display_name, None)

    r = client.post(unit_url(campaign, tree.county, "/file"), **headers)
    assert (r.status_code, r.json()["detail"]) == (400, "还不能提交：请上传加盖公章的扫描件（PDF、JPG 或 PNG）。")

    r = client.post(unit_url(campaign, tree.county, "/scan"), {"scan": pdf_upload("scan.pdf")}, **headers)
    assert r.status_code == 200, r.json()
    scan = r.json()["scan"]
    assert (scan["name"], scan["kind"], scan["kind_label"], scan["url"]) == (
        "scan.pdf", "pdf", "PDF 文档", f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/scan/")

    r = client.post(unit_url(campaign, tree.county, "/file"), **headers)
    assert (r.status_code, r.json()["status"], r.json()["filed"], r.json()["filed_by"]) == (
        200, "filed", True, tree.county_admin.display_name)
    r = served(client.get(unit_url(campaign, tree.county, "/scan"), **headers))
    assert (r.status_code, r["Content-Type"]) == (200, "application/pdf")


def test_refusals_answer_400_with_the_rows(client, tree, campaign, rows, bearer):
    headers = bearer(tree.county_admin)
    bad = [{**rows[0], "mobile": "12345"}, {**rows[1], "categories": []}]
    r = put(client, unit_url(campaign, tree.county, "/form"), {"people": bad}, **headers)
    assert r.status_code == 400
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "mobile"), (2, "categories")]
    r = client.post(unit_url(campaign, tree.county, "/scan"), {"scan": upload("a.pdf", docx_bytes())}, **headers)
    assert r.status_code == 400 and "不是 PDF、JPG 或 PNG" in r.json()["detail"]
    r = put(client, unit_url(campaign, tree.county, "/scan"), {"file_id": "not-a-uuid"}, **headers)
    assert (r.status_code, r.json()["detail"]) == (404, "文件编号格式不正确。")
    assert not ContactForm.objects.exists()


def test_attach_a_tus_upload(client, tree, campaign, bearer):
    headers = bearer(tree.county_admin)
    stored = StoredFile.objects.create(owner=tree.county_admin, storage_key="files/ab/scan", size=4096,
                                       sha256="0" * 64, kind="png", original_name="scan.png")
    r = put(client, unit_url(campaign, tree.county, "/scan"), {"file_id": str(stored.pk)}, **headers)
    assert (r.status_code, r.json()["scan"]["id"]) == (200, str(stored.pk))


def test_after_the_deadline_and_reopen(client, tree, campaign, rows, bearer):
    campaign.levels.filter(kind="county").update(contact_form_deadline=timezone.now() - timedelta(seconds=1))
    headers = bearer(tree.county_admin)
    r = put(client, unit_url(campaign, tree.county, "/form"), {"people": rows}, **headers)
    assert r.status_code == 400 and r.json()["errors"] == [{"rule": "deadline"}]
    assert client.get(unit_url(campaign, tree.county, "/form"), **headers).json()["can_edit"] is False
    r = client.post(unit_url(campaign, tree.county, "/reopen"), json.dumps({"deadline": "2099-01-01", "reason": "补报"}),
                    content_type="application/json", **headers)
    assert r.status_code == 403
    r = client.post(unit_url(campaign, tree.county, "/reopen"), json.dumps({"deadline": "2099-01-01", "reason": "补报"}),
                    content_type="application/json", **bearer(tree.city_admin))
    assert (r.status_code, r.json()["deadline"], r.json()["open"], r.json()["can_edit"]) == (
        200, "2099-01-01T23:59:59+08:00", True, False)  # the city reads; only the county edits
    assert put(client, unit_url(campaign, tree.county, "/form"), {"people": rows}, **headers).status_code == 200


def test_the_status_list_and_export_for_the_organiser(client, tree, campaign, rows, bearer,
                                                     django_assert_max_num_queries):
    put(client, unit_url(campaign, tree.county, "/form"), {"people": rows}, **bearer(tree.county_admin))
    headers = bearer(tree.city_admin)
    with django_assert_max_num_queries(13):  # token (2), memberships, campaign, then a fixed 9 for any number of units
        body = client.get(f"{BASE}/campaigns/{campaign.pk}/status", **headers).json()
    assert (body["unit_name"], body["filed_count"], body["total"]) == ("湛江市", 0, 3)
    assert [(u["unit_name"], u["status"], len(u["people"])) for u in body["units"]] == [
        ("赤坎区", "draft", 2), ("霞山区", "missing", 0), ("湛江市第一中学", "missing", 0)]
    r = client.get(f"{BASE}/campaigns/{campaign.pk}/export.xlsx", **headers)
    assert (r.status_code, r["Content-Type"]) == (
        200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r = client.get(f"{BASE}/campaigns/{campaign.pk}/status", **bearer(tree.county_admin))
    assert r.status_code == 404
    r = client.get(f"{BASE}/campaigns/{campaign.pk}/export.xlsx", **bearer(tree.county_admin))
    assert r.status_code == 404


def test_openapi_documents_the_endpoints(client, tree):
    client.force_login(tree.county_admin)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        "/campaigns/{campaign_id}/mine": ["get"], "/campaigns/{campaign_id}/units/{unit_id}/form": ["get", "put"],
        "/campaigns/{campaign_id}/units/{unit_id}/scan": ["get", "post", "put"],
        "/campaigns/{campaign_id}/units/{unit_id}/file": ["post"],
        "/campaigns/{campaign_id}/units/{unit_id}/reopen": ["post"], "/campaigns/{campaign_id}/status": ["get"],
        "/campaigns/{campaign_id}/export.xlsx": ["get"],
    }
    for path, methods in expected.items():
        operations = paths[f"{BASE}{path}"]
        assert sorted(operations) == methods, path
        for method in methods:
            assert operations[method]["summary"] and operations[method]["tags"] == ["工作联系表"], (path, method)
    upload_body = paths[f"{BASE}/campaigns/{{campaign_id}}/units/{{unit_id}}/scan"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]
