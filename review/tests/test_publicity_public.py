"""The public 公示 pages: what they show (never a phone number, nothing unpublished), the objection
form (validation, attachment checked by content, the period, the DB rate limit, CSRF) and who may
download an attachment."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from jingpinke.s3server import body_of, served
from review import publicity
from review.models import Objection

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def _url(pub):
    return f"/gongshi/{pub.slug}/"


def _form(**extra):
    data = {"name": "张三", "contact": "13712345678", "content": "该课程与网上已有课程雷同", "item": ""}
    data.update(extra)
    return data


def test_the_public_page_shows_the_published_results_and_no_phone_numbers(client, tree, pub,
                                                                          django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get(_url(pub))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("认识天地", "小小的船", "湛江市第二十一小学", "李老师", "县级精品课", "距公示结束还有 4 天"):
        assert text in html
    assert "秋天" not in html  # declined, not published
    for phone in ("13800000001", "13900001111", "13900002222"):
        assert phone not in html
    listing = client.get("/gongshi/").content.decode()
    assert pub.title in listing and "2 门课程" in listing


def test_the_list_query_count_does_not_grow(client, tree, campaign, pub, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert client.get("/gongshi/").status_code == 200


def test_a_withdrawn_item_shows_as_withdrawn(client, tree, pub):
    item = pub.items.get(course_title="认识天地")
    o = Objection.objects.create(publicity=pub, item=item, name="a", contact="a@b.cn", content="x", ip_hash="h")
    publicity.resolve(tree.county_admin, o.pk, "upheld", "雷同", withdraw=True)
    html = client.get(_url(pub)).content.decode()
    assert "已撤销" in html
    assert f'value="{item.pk}"' not in html  # no longer offered in the form


def test_an_objection_is_received(client, tree, pub):
    item = pub.items.get(course_title="认识天地")
    response = client.post(_url(pub), _form(item=item.pk, attachment=SimpleUploadedFile("证据.png", PNG)))
    assert response.status_code == 302
    assert "已收到" in client.get(response.url).content.decode()
    o = Objection.objects.get()
    assert (o.name, o.contact, o.item, o.attachment_type) == ("张三", "13712345678", item, "image/png")
    assert o.attachment.name.startswith("objections/") and "证据" not in o.attachment.name
    assert o.attachment.name.endswith(".png") and o.ip_hash != "127.0.0.1"


@pytest.mark.parametrize("data,message", [
    (_form(name=""), "请填写您的姓名"),
    (_form(contact=""), "请填写联系方式"),
    (_form(contact="12345"), "请填写手机号码"),
    (_form(contact="not-an-email@"), "请填写手机号码"),
    (_form(content=""), "请写明异议的内容"),
])
def test_objection_validation(client, pub, data, message):
    response = client.post(_url(pub), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Objection.objects.exists()


def test_contacts_accepted(client, pub):
    for i, contact in enumerate(["13712345678", "0759-1234567", "who@example.com"]):
        client.post(_url(pub), _form(contact=contact), REMOTE_ADDR=f"10.0.0.{i}")
    assert sorted(Objection.objects.values_list("contact", flat=True)) == ["0759-1234567", "13712345678",
                                                                           "who@example.com"]


@pytest.mark.parametrize("name,content", [
    ("forged.pdf", b"MZ\x90\x00 this is an executable"),
    ("picture.png", b"GIF89a\x01\x00\x01\x00"),
    ("fake.docx", b"PK\x03\x04not really a zip"),
])
def test_attachments_are_checked_by_content(client, pub, name, content):
    response = client.post(_url(pub), _form(attachment=SimpleUploadedFile(name, content)))
    assert response.status_code == 400
    assert "附件只能是 PDF、JPG、PNG 图片或 Word（DOCX）文档" in response.content.decode()
    assert not Objection.objects.exists()


def test_real_pdf_docx_and_jpg_are_accepted_whatever_their_name(client, pub):
    for i, (name, content) in enumerate([("a.bin", PDF), ("b", _docx()), ("c.txt", b"\xff\xd8\xff\xe0" + b"0" * 20)]):
        assert client.post(_url(pub), _form(attachment=SimpleUploadedFile(name, content)),
                           REMOTE_ADDR=f"10.1.0.{i}").status_code == 302
    assert sorted(o.attachment.name.rsplit(".", 1)[1] for o in Objection.objects.all()) == ["docx", "jpg", "pdf"]


def test_an_oversized_attachment_is_refused(client, pub):
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = client.post(_url(pub), _form(attachment=big))
    assert response.status_code == 400
    assert "附件不能超过 10 MB" in response.content.decode()
    assert not Objection.objects.exists()


def test_objections_are_refused_after_the_end(client, tree, campaign, results):
    start = timezone.now() - timedelta(days=6)
    pub = publicity.create(tree.county_admin, campaign, tree.county, now=start)
    html = client.get(_url(pub)).content.decode()
    assert "公示期已结束，不再受理异议" in html and "objection-form" not in html
    response = client.post(_url(pub), _form())
    assert "公示期已结束" in response.content.decode()
    assert not Objection.objects.exists()


def test_the_rate_limit_is_in_the_database(client, pub):
    for _ in range(3):
        assert client.post(_url(pub), _form()).status_code == 302
    response = client.post(_url(pub), _form(contact="other@example.com"))
    assert response.status_code == 429
    assert "每小时最多提交 3 条异议，请于" in response.content.decode()
    assert Objection.objects.count() == 3
    # another address may still object; an hour later this one may again
    assert client.post(_url(pub), _form(), REMOTE_ADDR="10.9.9.9").status_code == 302
    Objection.objects.update(created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert client.post(_url(pub), _form()).status_code == 302


def test_the_rate_limit_per_contact_and_publicity(client, pub):
    for i in range(10):
        Objection.objects.create(publicity=pub, name="a", contact="13712345678", content="x", ip_hash=f"h{i}",
                                 created_at=timezone.now() - timedelta(days=1))
    response = client.post(_url(pub), _form())
    assert response.status_code == 429
    assert "同一联系方式对本次公示最多提交 10 条异议" in response.content.decode()


def test_the_form_is_csrf_protected(pub):
    csrf_client = Client(enforce_csrf_checks=True)
    assert csrf_client.post(_url(pub), _form()).status_code == 403
    assert not Objection.objects.exists()


def test_an_unknown_slug_is_404(client, db):
    assert client.get("/gongshi/nope/").status_code == 404
    assert client.post("/gongshi/nope/", _form()).status_code == 404


def test_only_the_units_admins_download_the_attachment(client, tree, pub):
    client.post(_url(pub), _form(attachment=SimpleUploadedFile("a.png", PNG)))
    o = Objection.objects.get()
    url = f"/review/objections/{o.pk}/attachment/"
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/accounts/login/")
    client.force_login(tree.other_county_admin)
    assert client.get(url).status_code == 404
    client.force_login(tree.teacher)
    assert client.get(url).status_code == 404
    client.force_login(tree.county_admin)
    response = served(client.get(url))  # the object store sends it in S3 mode, after the same check
    assert response.status_code == 200 and body_of(response) == PNG
    assert response["Content-Type"] == "image/png" and "attachment" in response["Content-Disposition"]
    assert client.get(f"/media/{o.attachment.name}").status_code == 404  # never served publicly
