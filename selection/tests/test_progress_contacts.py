"""The progress board shows, for each child unit that files a contact form (工作联系表), whether
it has filed it: one extra query for all children, on the page and in the API."""

import pytest

from contacts import services as contacts
from contacts.tests.helpers import pdf_upload

pytestmark = pytest.mark.django_db
ROWS = [{"name": "黄志明", "position": "站长", "mobile": "13800138021", "categories": ["subject"], "remark": ""}]


@pytest.fixture
def county_filed(tree, campaign):
    contacts.save_people(tree.county_admin, campaign, tree.county, ROWS)
    contacts.upload_scan(tree.county_admin, campaign, tree.county, pdf_upload())
    return contacts.file_form(tree.county_admin, campaign, tree.county)


def test_the_board_says_who_filed_the_contact_form(client, tree, campaign, county_filed,
                                                  django_assert_max_num_queries):
    contacts.save_people(tree.other_county_admin, campaign, tree.other_county, ROWS)  # saved, not filed
    client.force_login(tree.city_admin)
    with django_assert_max_num_queries(17):
        response = client.get(f"/selection/campaigns/{campaign.pk}/progress/")
    rows = response.context["rows"]
    assert [(r.unit.name, r.contact_required, r.contact_filed) for r in rows] == [
        ("赤坎区", True, True), ("霞山区", True, False), ("湛江市第一中学", True, False)]
    assert rows[0].contact_filed_at == county_filed.filed_at
    html = response.content.decode()
    card = html[html.index(f'id="unit-{tree.county.pk}"'):html.index(f'id="unit-{tree.other_county.pk}"')]
    assert '<dt>工作联系表</dt>' in card and '<span class="badge st-pass">已提交</span>' in card
    assert f'href="/contacts/campaigns/{campaign.pk}/units/{tree.county.pk}/"' in card
    other = html[html.index(f'id="unit-{tree.other_county.pk}"'):]
    assert '<span class="badge st-pending">未提交</span>' in other

    body = client.get(f"/api/v1/selection/campaigns/{campaign.pk}/progress").json()
    assert [(c["unit_name"], c["contact_required"], c["contact_filed"]) for c in body["children"]] == [
        ("赤坎区", True, True), ("霞山区", True, False), ("湛江市第一中学", True, False)]
    assert body["children"][0]["contact_filed_at"] is not None and body["children"][1]["contact_filed_at"] is None


def test_a_countys_schools_do_not_file_and_cost_no_query(client, tree, campaign, county_filed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from selection import services

    with CaptureQueriesContext(connection) as ctx:
        rows = services.progress(tree.county_admin, campaign, tree.county)
    assert [(r.unit.name, r.contact_required, r.contact_filed) for r in rows] == [("湛江市第二十一小学", False, False)]
    assert not any("contacts_contactform" in q["sql"] for q in ctx.captured_queries)
    client.force_login(tree.county_admin)
    assert "<dt>工作联系表</dt>" not in client.get(f"/selection/campaigns/{campaign.pk}/progress/").content.decode()
