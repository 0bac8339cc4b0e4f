"""Every orgs page renders for an admin, and the demo tree works with them."""

import pytest
from django.urls import reverse

from orgs import demo
from orgs.models import Unit, User


@pytest.mark.parametrize("name,kwargs", [
    ("orgs:units", None),
    ("orgs:unit_import", None),
    ("orgs:user_import", None),
    ("orgs:users", None),
    ("orgs:user_create", None),
    ("orgs:unit_detail", "school"),
    ("orgs:unit_edit", "school"),
    ("orgs:unit_create", "county"),
    ("orgs:user_detail", "teacher"),
    ("orgs:user_edit", "teacher"),
])
def test_page_renders_for_county_admin(client, tree, name, kwargs):
    client.force_login(tree.county_admin)
    url = reverse(name, kwargs={"pk": getattr(tree, kwargs).pk} if kwargs else None)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body


def test_navigation_links_to_units_and_users(client, tree):
    client.force_login(tree.county_admin)
    body = client.get(reverse("orgs:units")).content.decode()
    assert f'href="{reverse("orgs:units")}"' in body
    assert f'href="{reverse("orgs:users")}"' in body


def test_user_create_prefills_unit(client, tree):
    client.force_login(tree.county_admin)
    form = client.get(reverse("orgs:user_create"), {"unit": tree.school.pk}).context["form"]
    assert form.initial["unit"] == tree.school.pk
    assert [u.code for u in form.fields["unit"].queryset] == ["440802", "440802001"]


def test_import_page_lists_row_errors(client, tree, unit_sheet):
    client.force_login(tree.county_admin)
    response = client.post(reverse("orgs:unit_import"), {"file": unit_sheet(["", "Z1", "学校", "440802", None])})
    body = response.content.decode()
    assert '<td class="nowrap">第 2 行</td><td><strong>单位名称</strong>：请填写单位名称。</td>' in body
    assert body.index('id="import-errors"') < body.index('enctype="multipart/form-data"')  # the result first, then the form again


def test_demo_tree_with_pages(client, db, django_assert_max_num_queries):
    demo.load()
    demo.load()  # idempotent
    admin = User.objects.get(username="ck_admin")
    client.force_login(admin)
    response = client.get(reverse("orgs:units"))
    assert [u.name for u, _ in response.context["rows"]] == [
        "赤坎区", "湛江市第二十一小学", "赤坎区第一小学", "湛江市第十二中学", "赤坎区特殊教育学校"]
    city_admin = User.objects.get(username="zj_admin")
    client.force_login(city_admin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:users"))
    assert response.context["page_obj"].paginator.count == 16
    assert Unit.objects.get(code="440800001").owner_label == "市直属学校"
