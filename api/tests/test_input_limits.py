"""No server error on any input: ids beyond the database's range and text with NUL are refused
with a Chinese message naming the field, in the API and on the pages (issue 9)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from api.models import ApiToken
from campaigns.models import NoticeDocument
from courses.tests.conftest import campaign, course, node  # noqa: F401  (fixtures)

BIG = "99999999999999999999"
OVERFLOW_DETAIL = "请求中的编号超出允许范围（最大 9223372036854775807），没有这样的对象：请检查路径和查询参数中的编号。"
NUL_NAME = "字段“name”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。"


@pytest.mark.parametrize("url", [
    f"/api/v1/courses?campaign={BIG}",
    f"/api/v1/selection/entries?node={BIG}",
    f"/api/v1/selection/entries?campaign={BIG}",
    f"/api/v1/selection/entries?held_by={BIG}",
    f"/api/v1/catalog/textbooks?textbook_id={BIG}",
    f"/api/v1/catalog/nodes?textbook_id={BIG}",
])
def test_ids_beyond_the_range_in_query_filters(client, tree, course, url):
    client.force_login(tree.city_admin)
    response = client.get(url)
    # held_by is looked up as a unit's primary key (selection.services.entries_for), which Django
    # itself finds empty when out of range: nothing is bound, on SQLite too.
    if connection.vendor == "sqlite" and "held_by" not in url:  # SQLite cannot bind the number: refused as such
        assert (response.status_code, response.json()) == (422, {"detail": OVERFLOW_DETAIL, "errors": []})
    else:  # PostgreSQL compares it as numeric: nothing has that id
        assert response.status_code == 200
        body = response.json()
        assert (body["items"] if isinstance(body, dict) else body) == []


def test_ids_beyond_the_range_in_an_id_list(client, tree, course):
    client.force_login(tree.teacher)
    response = client.put(f"/api/v1/courses/{course.pk}/members", {"user_ids": [-1, 1180591620717411303424]},
                          content_type="application/json")
    message = ("字段“user_ids[1]”的数字超出允许范围（-9223372036854775808 至 9223372036854775807）："
               "编号和数量不会这么大，请检查后重试。")
    assert (response.status_code, response.json()) == (
        422, {"detail": message, "errors": [{"loc": ["body", "user_ids", 1], "msg": message}]})
    response = client.put(f"/api/v1/courses/{course.pk}/members", {"user_ids": [-1]}, content_type="application/json")
    assert (response.status_code, response.json()["detail"]) == (
        400, "有 1 位成员不是本次活动范围内已注册的教师，请通过姓名或手机号重新查找。")


def test_unicode_digits_and_huge_ids_in_page_query_strings(client, tree, course):
    client.force_login(tree.county_admin)
    for query in (f"held_by={BIG}", "held_by=²", f"node={BIG}&campaign={course.campaign_id}", f"unit={BIG}"):
        response = client.get(f"/selection/?{query}")
        assert response.status_code in (200, 404), query
    assert client.get(f"/catalog/?textbook={BIG}&node=²").status_code == 200
    client.force_login(tree.city_admin)
    assert client.get(f"/orgs/users/?unit={BIG}").status_code == 200


# --- NUL: PostgreSQL cannot store it, so it is refused everywhere (these run on both databases) ---------
def test_nul_in_a_json_body_is_refused(client, tree):
    client.force_login(tree.teacher)
    response = client.post("/api/v1/auth/tokens", {"name": "a\u0000b"}, content_type="application/json")
    assert (response.status_code, response.json()) == (
        422, {"detail": NUL_NAME, "errors": [{"loc": ["body", "name"], "msg": NUL_NAME}]})
    assert ApiToken.objects.count() == 0


def test_nul_in_an_api_query_string_is_refused(client, tree):
    client.force_login(tree.city_admin)
    response = client.get("/api/v1/selection/entries", {"q": "语文\x00"})
    message = "字段“q”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。"
    assert (response.status_code, response.json()) == (
        422, {"detail": message, "errors": [{"loc": ["query", "q"], "msg": message}]})


def test_nul_in_multipart_fields_is_refused_and_cleaned_from_file_names(client, tree, campaign):
    client.force_login(tree.city_admin)
    url = f"/api/v1/campaigns/{campaign.pk}/notices"
    shipped = NoticeDocument.objects.filter(campaign=campaign).count()
    response = client.post(url, {"title": "通知\x00"})
    assert (response.status_code, response.json()["detail"]) == (
        422, "字段“title”含有空字符（\\u0000），无法保存：请删除其中的不可见字符后重试。")
    assert NoticeDocument.objects.filter(campaign=campaign).count() == shipped
    # Django's multipart parser drops non-printable characters from file names before we see them.
    upload = SimpleUploadedFile("通知\x00.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    response = client.post(url, {"title": "通知", "file": upload})
    assert (response.status_code, response.json()["file_name"]) == (201, "通知.pdf")


def test_nul_in_a_page_form_and_query_string_is_refused(client, tree):
    client.force_login(tree.teacher)
    response = client.post("/account/tokens/", {"name": "脚本\x00"})
    assert response.status_code == 400
    assert "字段“name”含有空字符（\\u0000），无法保存" in response.content.decode()
    assert ApiToken.objects.count() == 0
    client.force_login(tree.county_admin)
    response = client.get("/selection/", {"q": "\x00"})
    assert response.status_code == 400
    assert "字段“q”含有空字符（\\u0000），无法保存" in response.content.decode()


@pytest.mark.postgres
def test_nul_never_reaches_postgresql(client, tree, campaign):
    """On PostgreSQL a NUL reaching the database is a server error (psycopg refuses the literal)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; run by make test-postgres")
    client.force_login(tree.city_admin)
    assert client.post("/api/v1/auth/tokens", {"name": "a\x00b"}, content_type="application/json").status_code == 422
    assert client.get("/api/v1/orgs/users", {"q": "\x00"}).status_code == 422
    assert client.get("/api/v1/catalog/nodes", {"q": "\x00"}).status_code == 422
    assert client.get("/orgs/users/", {"q": "\x00"}).status_code == 400
    assert client.post("/account/tokens/", {"name": "a\x00b"}).status_code == 400
    response = client.patch(f"/api/v1/campaigns/{campaign.pk}", {"title": "活动\x00"}, content_type="application/json")
    assert response.status_code == 422
    assert ApiToken.objects.count() == 0
