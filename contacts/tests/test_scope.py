"""Scope: a county admin neither sees nor changes another county's form or scan, on any page or
endpoint; the scan has no public URL; teachers and county schools have nothing here."""

import json

import pytest

from contacts import services
from contacts.models import ContactForm
from contacts.tests.helpers import pdf_upload
from jingpinke.s3server import served

pytestmark = pytest.mark.django_db
API = "/api/v1/contacts"


@pytest.fixture
def filed(tree, campaign, rows):
    services.save_people(tree.county_admin, campaign, tree.county, rows)
    form = services.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    services.file_form(tree.county_admin, campaign, tree.county)
    return form


def test_another_county_admin_sees_and_changes_nothing(client, tree, campaign, filed, rows):
    page = f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/"
    api = f"{API}/campaigns/{campaign.pk}/units/{tree.county.pk}"
    client.force_login(tree.other_county_admin)
    assert client.get(page).status_code == 404
    assert client.post(page, {"p-0-name": "篡改", "action": "save"}).status_code == 404
    assert client.get(page + "scan/").status_code == 404
    assert client.post(page + "reopen/", {"deadline_date": "2099-01-01", "reason": "x"}).status_code == 404
    assert client.get(f"/contacts/campaigns/{campaign.pk}/export.xlsx").status_code == 404
    for method, path, body in [("get", "/form", None), ("put", "/form", {"people": rows}), ("get", "/scan", None),
                               ("post", "/file", None), ("put", "/scan", {"file_id": str(filed.scan_id)}),
                               ("post", "/reopen", {"deadline": "2099-01-01", "reason": "x"})]:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
        r = getattr(client, method)(api + path, **kwargs)
        assert (r.status_code, r.json()["detail"]) == (404, "未找到该对象，或您无权查看。"), (method, path)
    r = client.post(api + "/scan", {"scan": pdf_upload()})
    assert r.status_code == 404
    # His own list holds his own county only.
    assert [f["unit_name"] for f in client.get(f"{API}/campaigns/{campaign.pk}/mine").json()] == ["霞山区"]
    form = ContactForm.objects.get(unit=tree.county)
    assert ([p.name for p in form.people.all()], form.scan_id) == (["黄志明", "陈丽娟"], filed.scan_id)


def test_the_scan_has_no_public_url(client, tree, campaign, filed):
    page = f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/scan/"
    response = client.get(page)
    assert (response.status_code, response["Location"].split("?")[0]) == (302, "/accounts/login/")
    assert client.get(f"{API}/campaigns/{campaign.pk}/units/{tree.county.pk}/scan").status_code == 401
    # The media app's own URL serves a file to its owner only: the city reads it through the form.
    client.force_login(tree.city_admin)
    assert client.get(f"/files/{filed.scan_id}/").status_code == 404
    assert served(client.get(page)).status_code == 200
    assert "/media/" not in client.get(f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/").content.decode()


def test_teachers_and_county_schools_have_no_form(client, tree, campaign, filed):
    client.force_login(tree.teacher)
    assert client.get(f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/").status_code == 404
    assert client.get(f"{API}/campaigns/{campaign.pk}/units/{tree.school.pk}/form").status_code == 404
    assert client.get(f"{API}/campaigns/{campaign.pk}/mine").json() == []
    client.force_login(tree.school_admin)
    assert client.get(f"/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/").status_code == 404
    assert client.get(f"{API}/campaigns/{campaign.pk}/units/{tree.school.pk}/form").status_code == 404


def test_the_province_above_reads_but_does_not_fill(client, tree, campaign, filed, rows):
    client.force_login(tree.province_admin)
    api = f"{API}/campaigns/{campaign.pk}/units/{tree.county.pk}"
    assert client.get(api + "/form").json()["people"][0]["name"] == "黄志明"
    r = client.put(api + "/form", json.dumps({"people": rows[:1]}), content_type="application/json")
    assert (r.status_code, r.json()["detail"]) == (403, "只有赤坎区的管理员可以填写和提交本单位的工作联系表。")
