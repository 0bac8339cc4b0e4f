"""Organisation scope: outside it → 404, a forbidden action → 403, on pages and endpoints alike."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services
from campaigns.models import DeadlineOverride, Quota

BASE = "/api/v1/campaigns"


def put(client, path, data):
    return client.put(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def maoming_notice(tree, maoming):
    return services.add_notice(tree.sysadmin, maoming, {"title": "茂名通知"},
                               SimpleUploadedFile("茂名.pdf", b"%PDF"))


# --- another city's campaign ------------------------------------------------------------------------
PAGES = ["detail", "edit", "categories", "levels", "overrides", "quotas", "default_quotas", "rules", "contacts",
         "notices", "export"]


@pytest.mark.parametrize("name", PAGES)
def test_a_county_admin_cannot_open_another_citys_campaign(client, tree, maoming, name):
    client.force_login(tree.county_admin)
    assert client.get(reverse(f"campaigns:{name}", args=[maoming.pk])).status_code == 404


@pytest.mark.parametrize("path", ["", "/export", "/deadlines", "/deadline-overrides", "/quotas", "/notices"])
def test_nor_through_the_api(client, tree, maoming, path):
    client.force_login(tree.county_admin)
    response = client.get(f"{BASE}/{maoming.pk}{path}")
    assert (response.status_code, response.json()["detail"]) == (404, "未找到该对象，或您无权查看。")


def test_a_notice_of_a_campaign_he_cannot_see_is_404(client, tree, maoming, maoming_notice, bearer):
    client.force_login(tree.county_admin)
    assert client.get(reverse("campaigns:notice_file", args=[maoming.pk, maoming_notice.pk])).status_code == 404
    assert client.get(f"{BASE}/{maoming.pk}/notices/{maoming_notice.pk}/file",
                      **bearer(tree.teacher)).status_code == 404


def test_a_notice_id_of_another_campaign_is_404(client, tree, zhanjiang, maoming_notice):
    client.force_login(tree.teacher)
    assert client.get(reverse("campaigns:notice_file", args=[zhanjiang.pk, maoming_notice.pk])).status_code == 404


def test_notice_downloads_are_not_public_media_urls(client, tree, zhanjiang, maoming_notice):
    response = client.get("/media/" + maoming_notice.file.name)
    assert response.status_code == 404


# --- owner-only parts --------------------------------------------------------------------------------
OWNER_PAGES = ["edit", "categories", "levels", "default_quotas", "rules", "contacts", "notices", "export"]


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_owner_only_pages_are_403_for_a_county_admin_and_a_teacher(client, tree, zhanjiang, name):
    for user in (tree.county_admin, tree.teacher):
        client.force_login(user)
        assert client.get(reverse(f"campaigns:{name}", args=[zhanjiang.pk])).status_code == 403, user
        assert client.post(reverse(f"campaigns:{name}", args=[zhanjiang.pk]), {}).status_code == 403, user


def test_owner_pages_open_for_province_admin_and_sysadmin(client, tree, zhanjiang):
    for user in (tree.province_admin, tree.sysadmin):
        client.force_login(user)
        assert client.get(reverse("campaigns:rules", args=[zhanjiang.pk])).status_code == 200


def test_a_teacher_has_no_unit_settings_pages(client, tree, zhanjiang):
    client.force_login(tree.teacher)
    for name in ("overrides", "quotas"):
        assert client.get(reverse(f"campaigns:{name}", args=[zhanjiang.pk])).status_code == 403


# --- another county -----------------------------------------------------------------------------------
def test_a_county_admin_cannot_set_deadlines_for_another_county_or_its_schools(client, tree, zhanjiang):
    client.force_login(tree.county_admin)
    for unit in (tree.other_county, tree.other_school):
        r = put(client, f"{BASE}/{zhanjiang.pk}/deadline-overrides",
                {"level": "school", "unit_id": unit.pk, "deadline": "2024-09-01"})
        assert r.status_code == 404, unit
        page = client.post(reverse("campaigns:overrides", args=[zhanjiang.pk]),
                           {"level": "school", "unit": unit.pk, "deadline_date": "2024-09-01"})
        assert page.status_code == 200  # not among the choices
        assert page.context["form"].errors == {"unit": ["选择一个有效的选项： 该选择不在可用的选项中。"]}
    r = put(client, f"{BASE}/{zhanjiang.pk}/deadline-overrides",
            {"level": "county", "unit_id": tree.county.pk, "deadline": "2024-09-30"})
    assert r.status_code == 403
    assert r.json()["detail"] == "县（市、区）层级的截止时间和名额由上级单位设置，您不能为“赤坎区”设置。"
    assert DeadlineOverride.objects.count() == 0


def test_a_county_admin_cannot_set_quotas_for_another_county_or_its_schools(client, tree, zhanjiang):
    client.force_login(tree.county_admin)
    for unit, level in ((tree.other_county, "county"), (tree.other_school, "school")):
        r = put(client, f"{BASE}/{zhanjiang.pk}/quotas/overrides",
                {"level": level, "unit_id": unit.pk, "category": "subject", "limit": 99})
        assert r.status_code == 404
    r = put(client, f"{BASE}/{zhanjiang.pk}/quotas/overrides",
            {"level": "county", "unit_id": tree.county.pk, "category": "subject", "limit": 99})
    assert r.status_code == 403
    assert Quota.objects.filter(unit__isnull=False).count() == 0


def test_a_county_admin_cannot_delete_or_see_another_countys_settings(client, tree, zhanjiang):
    o = services.set_deadline_override(tree.city_admin, zhanjiang, level_kind="school", unit=tree.other_county,
                                       deadline="2024-09-05")
    q = services.set_quota_override(tree.city_admin, zhanjiang, level_kind="county", unit=tree.other_county,
                                    category="subject", limit=20)
    client.force_login(tree.county_admin)
    assert client.get(f"{BASE}/{zhanjiang.pk}/deadline-overrides").json() == []
    assert client.get(f"{BASE}/{zhanjiang.pk}/quotas").json()["overrides"] == []
    assert client.delete(f"{BASE}/{zhanjiang.pk}/deadline-overrides/{o.pk}").status_code == 404
    assert client.delete(f"{BASE}/{zhanjiang.pk}/quotas/overrides/{q.pk}").status_code == 404
    assert client.post(reverse("campaigns:override_delete", args=[zhanjiang.pk, o.pk])).status_code == 404
    assert client.post(reverse("campaigns:quota_delete", args=[zhanjiang.pk, q.pk])).status_code == 404
    assert client.get(f"{BASE}/{zhanjiang.pk}/deadlines?unit_id={tree.other_school.pk}").status_code == 404
    assert client.get(f"{BASE}/{zhanjiang.pk}/quota?unit_id={tree.other_county.pk}&category=subject").status_code == 404
    assert client.get(reverse("campaigns:overrides", args=[zhanjiang.pk]) + f"?unit={tree.other_school.pk}").status_code == 404
    assert DeadlineOverride.objects.count() == 1 and Quota.objects.filter(unit__isnull=False).count() == 1


def test_a_school_admin_sets_nothing(client, tree, zhanjiang):
    client.force_login(tree.school_admin)
    r = put(client, f"{BASE}/{zhanjiang.pk}/deadline-overrides",
            {"level": "school", "unit_id": tree.school.pk, "deadline": "2024-09-30"})
    assert r.status_code == 403
    page = client.get(reverse("campaigns:overrides", args=[zhanjiang.pk]))
    assert page.context["can_set"] is False


def test_import_for_a_unit_outside_scope_is_404(client, tree, zhanjiang):
    client.force_login(tree.city_admin)
    r = client.post(f"{BASE}/from-template", json.dumps({"template": "zhanjiang-2024", "owner_id": tree.other_city.pk}),
                    content_type="application/json")
    assert r.status_code == 404
    client.force_login(tree.county_admin)
    r = client.post(f"{BASE}/from-template", json.dumps({"template": "zhanjiang-2024", "owner_id": tree.county.pk}),
                    content_type="application/json")
    assert r.status_code == 404
    assert client.get(reverse("campaigns:from_template")).status_code == 403
