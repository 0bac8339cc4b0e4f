"""Walks every orgs page and API endpoint: a teacher gets 403, a county admin gets 404 for
another county's objects, and each of them is listed here (a new URL fails the coverage test)."""

import pytest
from django.urls import reverse

from orgs.models import Membership, Unit, User

# name -> (method, kwargs builder for an object outside the county admin's scope)
PAGES = {
    "units": ("get", None),
    "unit_create_root": ("get", None),
    "unit_import": ("get", None),
    "unit_template": ("get", None),
    "unit_detail": ("get", lambda t: {"pk": t.other_county.pk}),
    "unit_edit": ("post", lambda t: {"pk": t.other_school.pk}),
    "unit_create": ("post", lambda t: {"pk": t.other_county.pk}),
    "users": ("get", None),
    "user_create": ("get", None),
    "user_import": ("get", None),
    "user_template": ("get", None),
    "user_detail": ("get", lambda t: {"pk": t.other_teacher.pk}),
    "user_edit": ("post", lambda t: {"pk": t.other_teacher.pk}),
    "membership_add": ("post", lambda t: {"pk": t.other_teacher.pk}),
    "membership_remove": ("post", lambda t: {"pk": t.other_teacher.pk,
                                             "mid": t.other_teacher.memberships.get().pk}),
    "user_reset_password": ("post", lambda t: {"pk": t.other_teacher.pk}),
    "user_unlock": ("post", lambda t: {"pk": t.other_teacher.pk}),
}


def test_every_orgs_page_is_covered():
    from orgs import urls

    assert {p.name for p in urls.urlpatterns} == set(PAGES)


def snapshot():
    return (list(Unit.objects.order_by("pk").values_list("name", "code", "parent_id", "is_active")),
            list(User.objects.order_by("pk").values_list("real_name", "mobile", "is_active", "password")),
            list(Membership.objects.order_by("pk").values_list("user_id", "unit_id", "role")))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_teacher_gets_403(client, tree, name):
    method, kwargs = PAGES[name]
    client.force_login(tree.teacher)
    url = reverse(f"orgs:{name}", kwargs=kwargs(tree) if kwargs else None)
    assert getattr(client, method)(url).status_code == 403


@pytest.mark.parametrize("name", sorted(n for n, (_, k) in PAGES.items() if k))
def test_county_admin_gets_404_for_other_county(client, tree, name):
    method, kwargs = PAGES[name]
    client.force_login(tree.county_admin)
    before = snapshot()
    url = reverse(f"orgs:{name}", kwargs=kwargs(tree))
    data = {"name": "x", "code": "x", "kind": "school", "real_name": "x", "unit": tree.school.pk, "role": "teacher"}
    assert getattr(client, method)(url, data if method == "post" else None).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(n for n, (_, k) in PAGES.items() if k))
def test_school_admin_gets_404_for_his_county_and_above(client, tree, name):
    method, kwargs = PAGES[name]
    client.force_login(tree.school_admin)
    mapping = {"pk": tree.county.pk} if name.startswith("unit") else {"pk": tree.county_admin.pk}
    if name == "membership_remove":
        mapping["mid"] = tree.county_admin.memberships.get().pk
    url = reverse(f"orgs:{name}", kwargs=mapping)
    assert getattr(client, method)(url).status_code == 404


API_ENDPOINTS = [
    ("get", "/units/{unit}"),
    ("patch", "/units/{unit}"),
    ("get", "/users/{user}"),
    ("patch", "/users/{user}"),
    ("post", "/users/{user}/reset-password"),
    ("post", "/users/{user}/unlock"),
    ("post", "/users/{user}/memberships"),
    ("delete", "/users/{user}/memberships/{membership}"),
    ("get", "/units?parent_id={unit}"),
    ("get", "/users?unit_id={unit}"),
]


def test_every_api_endpoint_is_covered():
    from orgs.api import router

    paths = {(m.lower(), p) for p, view in router.path_operations.items() for op in view.operations for m in op.methods}
    scoped = {(m, p.replace("{unit}", "{unit_id}").replace("{user}", "{user_id}")
               .replace("{membership}", "{membership_id}")) for m, p in API_ENDPOINTS if "?" not in p}
    unscoped = {("get", "/units"), ("post", "/units"), ("get", "/users"), ("post", "/users"),
                ("get", "/units/import/template"), ("post", "/units/import"),
                ("get", "/users/import/template"), ("post", "/users/import")}
    normalise = {(m, p.replace("{int:", "{")) for m, p in paths}
    assert normalise == scoped | unscoped


@pytest.mark.parametrize("method,path", API_ENDPOINTS)
def test_api_county_admin_gets_404_for_other_county(client, tree, bearer, method, path):
    before = snapshot()
    url = "/api/v1/orgs" + path.format(unit=tree.other_county.pk, user=tree.other_teacher.pk,
                                       membership=tree.other_teacher.memberships.get().pk)
    body = {"unit_id": tree.school.pk, "role": "expert", "name": "x", "real_name": "x"}
    kwargs = {"content_type": "application/json", "data": body} if method in ("post", "patch") else {}
    response = getattr(client, method)(url, **kwargs, **bearer(tree.county_admin))
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("method,path", API_ENDPOINTS)
def test_api_teacher_gets_403(client, tree, bearer, method, path):
    url = "/api/v1/orgs" + path.format(unit=tree.school.pk, user=tree.teacher.pk,
                                       membership=tree.teacher.memberships.get().pk)
    kwargs = {"content_type": "application/json", "data": {"unit_id": tree.school.pk, "role": "expert"}} \
        if method in ("post", "patch") else {}
    assert getattr(client, method)(url, **kwargs, **bearer(tree.teacher)).status_code == 403
