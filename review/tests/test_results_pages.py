"""Round results pages: results, export, printable report, proposal and apply; who may see them."""

import io

import openpyxl
import pytest
from django.urls import reverse

from review.tests.test_results import _second_school_entry, scored  # noqa: F401  (fixture)
from selection.models import Entry

pytestmark = pytest.mark.django_db


def test_results_page_for_admin(client, tree, scored, django_assert_max_num_queries):  # noqa: F811
    client.force_login(tree.county_admin)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("review:results", args=[scored.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "评分分歧：最高分与最低分相差 35 分，超过 20 分，请组长裁定或增加评审专家" in html
    assert "中位数更高" in html
    assert 'id="proposal"' in html


def test_round_page_links_to_results(client, tree, scored):  # noqa: F811
    scored.status = "published"
    scored.save(update_fields=["status"])
    client.force_login(tree.county_admin)
    html = client.get(reverse("review:round", args=[scored.pk])).content.decode()
    assert f'href="{reverse("review:results", args=[scored.pk])}" id="results-link"' in html


def test_chair_sees_results_blind_and_read_only(client, tree, scored, pool):  # noqa: F811
    client.force_login(pool[0])
    response = client.get(reverse("review:results", args=[scored.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "小小的船" in html
    for secret in (tree.school.name, tree.teacher.real_name, tree.county.name, scored.title):
        assert secret not in html
    report = client.get(reverse("review:report", args=[scored.pk])).content.decode()
    for secret in (tree.school.name, tree.teacher.real_name, tree.county.name, scored.title):
        assert secret not in report
    scored.status = "published"  # his tasks list published rounds only
    scored.save(update_fields=["status"])
    tasks = client.get(reverse("review:my")).content.decode()
    assert f'href="{reverse("review:results", args=[scored.pk])}"' in tasks
    assert 'id="results-settings"' not in html and 'id="proposal"' not in html
    assert client.get(reverse("review:proposal", args=[scored.pk])).status_code == 403
    assert client.post(reverse("review:results_settings", args=[scored.pk]), {"method": "median", "min_scored": 5,
                                                                              "disagreement_threshold": 20}).status_code == 403
    scored.refresh_from_db()
    assert scored.method == "mean"


@pytest.mark.parametrize("name", ["results", "results_export", "report", "proposal"])
def test_outsiders_get_404(client, tree, scored, pool, name):  # noqa: F811
    for user in (pool[1], tree.other_county_admin, tree.school_admin):
        client.force_login(user)
        assert client.get(reverse(f"review:{name}", args=[scored.pk])).status_code == 404


def test_export_and_report(client, tree, scored, pool):  # noqa: F811
    client.force_login(tree.county_admin)
    response = client.get(reverse("review:results_export", args=[scored.pk]))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["专家评分", "作品汇总", "排名"]
    assert book["排名"].max_row == 5
    report = client.get(reverse("review:report", args=[scored.pk])).content.decode()
    assert "评审组成员签名" in report and "专家0（组长）" in report and "小小的船" in report


def test_settings_form(client, tree, scored):  # noqa: F811
    client.force_login(tree.county_admin)
    client.post(reverse("review:results_settings", args=[scored.pk]),
                {"method": "median", "min_scored": "4", "disagreement_threshold": "40"})
    scored.refresh_from_db()
    assert (scored.method, scored.min_scored, str(scored.disagreement_threshold)) == ("median", 4, "40.0")


def test_proposal_page_and_apply(client, tree, scored):  # noqa: F811
    client.force_login(tree.county_admin)
    url = reverse("review:proposal", args=[scored.pk])
    html = client.get(url).content.decode()
    assert "同一目录节点已有更高分作品《认识天地》" in html and "评审一票否决，不予推荐" in html
    ids = scored.entries
    # Applying with a stale view is refused; nothing changes.
    response = client.post(url, {"action": "apply", "expected": [ids["D"]]})
    assert response.status_code == 400
    assert "推荐方案与您看到的不同" in response.content.decode()
    assert not Entry.objects.filter(pk__in=ids.values(), state="recommended").exists()
    response = client.post(url, {"action": "apply", "expected": [ids["B"], ids["A"]]})
    assert response.status_code == 302
    assert set(Entry.objects.filter(pk__in=ids.values(), state="recommended").values_list("pk", flat=True)) == \
        {ids["A"], ids["B"]}


def test_proposal_force_needs_a_reason(client, tree, scored):  # noqa: F811
    client.force_login(tree.county_admin)
    response = client.post(reverse("review:proposal", args=[scored.pk]),
                           {"action": "preview", f"force_{scored.entries['D']}": "in"})
    assert response.status_code == 400
    assert "请为强制推荐的作品《看图说话》填写理由。" in response.content.decode()
